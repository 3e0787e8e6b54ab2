/**
 * A real Prometheus for tests (Debian's binary, `bash .ci/install-ops.sh`): a temp data dir, a
 * random port, the given scrape targets, stopped (and its data removed) by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, get, sleep } from '../fixtures/harness';

export interface TestPrometheus {
  readonly url: string;
  readonly port: number;
  log(): string;
  /** One instant query's vector. */
  query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** `host:port` targets of one job `fleet`. */
  readonly targets: readonly string[];
  /** Scrape interval (and timeout), e.g. `100ms`. */
  readonly scrapeInterval: string;
}

export async function startPrometheus(o: PrometheusOptions): Promise<TestPrometheus> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'chatpulse-prom-'));
  const port = await freePort();
  writeFileSync(
    path.join(tmp, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${o.scrapeInterval}`,
      `  scrape_timeout: ${o.scrapeInterval}`,
      'scrape_configs:',
      '  - job_name: fleet',
      '    static_configs:',
      `      - targets: [${o.targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  let log = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${path.join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  let spawnError: Error | undefined;
  child.once('error', (err: NodeJS.ErrnoException) => {
    spawnError = new Error(err.code === 'ENOENT' ? 'the prometheus binary is not installed: run bash .ci/install-ops.sh' : err.message);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (spawnError !== undefined) throw spawnError;
    if ((await get(`${url}/-/ready`, 1000).catch(() => undefined))?.status === 200) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`Prometheus did not become ready\n${log.slice(-3000)}`);
    }
    await sleep(100);
  }
  return {
    url,
    port,
    log: () => log,
    query: async (q) => {
      const r = await get(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = JSON.parse(r.body) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query failed: ${r.body}`);
      return body.data.result;
    },
    stop,
  };
}
