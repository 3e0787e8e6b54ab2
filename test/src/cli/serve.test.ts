/**
 * `chatpulse serve` and the top-level CLI without a Prometheus: bad flags and bad configuration
 * exit 2 with one line naming the flag or field; with Prometheus down it still serves, reports
 * unhealthy naming the URL, and ends with exit 0 on SIGTERM. (Against a real Prometheus:
 * test/src/fleet/prometheus-source.test.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, get, sleep } from '../../fixtures/harness';
import { CLI, REPO, ensureBuilt, runCli } from './cli-helpers';

let tmp: string;

beforeAll(() => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'chatpulse-cli-'));
});

afterAll(() => {
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
});

describe('chatpulse: help, version, usage errors', () => {
  it('--version prints package.json\'s version; --help and help <cmd> print usage', async () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const v = await runCli(['--version']);
    expect(v).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: chatpulse <command>/);
    expect(h.stdout).toContain('serve');
    expect(h.stdout).toContain('probe');
    const hs = await runCli(['help', 'serve']);
    expect(hs.code).toBe(0);
    expect(hs.stdout).toMatch(/^Usage: chatpulse serve --prometheus-url URL/);
    expect((await runCli(['serve', '--help'])).stdout).toBe(hs.stdout);
  });

  it('no command: usage on stderr, exit 2; unknown command or option: one line, exit 2', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: chatpulse <command>');
    const cmd = await runCli(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toBe('chatpulse: unknown command "frobnicate" (commands: serve, probe) (see chatpulse --help)\n');
    const opt = await runCli(['--verbose']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toBe('chatpulse: unknown option --verbose (see chatpulse --help)\n');
  });
});

describe('chatpulse serve: flag and configuration errors exit 2 naming the flag or field', () => {
  const P = ['--prometheus-url', 'http://127.0.0.1:9090'];
  it.each([
    [[], {}, '--prometheus-url is required'],
    [['--prometheus-url', 'prometheus:9090'], {}, '--prometheus-url: expected an http or https URL, got prometheus:'],
    [['--prometheus-url', 'not a url'], {}, '--prometheus-url: not a valid URL'],
    [[...P, '--bogus'], {}, 'unknown option --bogus'],
    [[...P, '--port', '70000'], {}, '--port: expected a port from 0 to 65535, got "70000"'],
    [[...P, '--port'], {}, 'option --port needs a value'],
    [[...P, '--window', '300'], {}, '--window: expected a duration with a unit such as 500ms, 5s or 5m, got "300"'],
    [[...P, '--window', '500ms'], {}, '--window: must be at least 1s'],
    [[...P, '--service', ''], {}, '--service: must not be empty'],
    [[...P, 'extra'], {}, 'unexpected argument "extra"'],
    [[...P], { CHATPULSE_HEALTH_WINDOW: 'soon' }, 'invalid configuration: CHATPULSE_HEALTH_WINDOW: expected a duration'],
    [[...P], { CHATPULSE_KPI_TIME_TO_FIRST_TOKEN_WARN: 'fast' }, 'invalid configuration: CHATPULSE_KPI_TIME_TO_FIRST_TOKEN_WARN: expected a non-negative number'],
  ] as [string[], Record<string, string>, string][])('%j %j', async (args, env, message) => {
    const r = await runCli(['serve', ...args], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`chatpulse serve: ${message}`);
  });

  it('--config: unknown fields, bad thresholds and a missing file are named', async () => {
    const unknown = path.join(tmp, 'unknown.yaml');
    writeFileSync(unknown, 'window: 5m\nthreshholds: {}\n');
    const bad = path.join(tmp, 'bad.yaml');
    writeFileSync(bad, 'thresholds:\n  timeToFirstToken:\n    warn: 3\n    fail: 2\n');
    const cases: [string, string][] = [
      [unknown, 'invalid configuration: threshholds: unknown field'],
      [bad, 'invalid configuration: thresholds.timeToFirstToken: expected target ≤ warn ≤ fail'],
      [path.join(tmp, 'missing.yaml'), 'invalid configuration: CHATPULSE_HEALTH_CONFIG: cannot read'],
    ];
    for (const [file, message] of cases) {
      const r = await runCli(['serve', '--prometheus-url', 'http://127.0.0.1:9090', '--config', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`chatpulse serve: ${message}`);
    }
  });

  it('a port in use: one line, exit 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['serve', '--prometheus-url', 'http://127.0.0.1:9', '--port', String(port), '--host', '127.0.0.1']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`chatpulse serve: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      blocker.close();
    }
  });
});

describe('chatpulse serve with Prometheus down', () => {
  it('serves anyway, unhealthy with the reason naming the URL (not its password); SIGTERM → exit 0', async () => {
    const promPort = await freePort();
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--prometheus-url', `http://ops:secret@127.0.0.1:${promPort}`, '--service', 'chatbot', '--port', '0', '--host', '127.0.0.1', '--token', 't0k'],
      { cwd: REPO, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 10_000;
      while (!/listening on/.test(out) && child.exitCode === null && Date.now() < deadline) await sleep(20);
      const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(base, `stdout:\n${out}\nstderr:\n${err}`).toBeDefined();
      expect(out).toContain(`from Prometheus http://127.0.0.1:${promPort}, window 5m`);

      // Public: status only, 503.
      const basic = await get(`${base}/health`);
      expect(basic.status).toBe(503);
      expect(JSON.parse(basic.body)).toMatchObject({ status: 'unhealthy' });
      // Readiness answers for the server: not ready, because Prometheus cannot be queried.
      const ready = await get(`${base}/api/v1/health/ready`);
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'not_ready', reason: `prometheus: Prometheus at http://127.0.0.1:${promPort} is unreachable: ECONNREFUSED` });
      // Token required for the details.
      expect((await get(`${base}/api/v1/health`)).status).toBe(401);
      const probe = await runCli(['probe', base!, '--token', 't0k']);
      expect(probe.code).toBe(2);
      expect(probe.stdout).toMatch(/^unhealthy  http:\/\/127\.0\.0\.1:\d+\/api\/v1\/health  \(\d+ ms\)  issues: /);
      expect(probe.stdout).toContain(`prometheus: Prometheus at http://127.0.0.1:${promPort} is unreachable: ECONNREFUSED`);
      expect(probe.stdout).toContain('instances: unknown: Prometheus has not answered yet');
      expect(out + err).not.toContain('secret');

      child.kill('SIGTERM');
      expect(await Promise.race([exited, sleep(5000).then(() => 'still running')])).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
