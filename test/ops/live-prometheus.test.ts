/**
 * Live: a real Prometheus (random ports, 1 s scrape and evaluation intervals, the shipped rule
 * files) scrapes the real instrumented sample backend under traffic
 * (`node --require dist/instrumentation/register.js examples/chatbot/server.js`):
 *
 *  - every dashboard panel query and every template-variable query returns data,
 *  - every recording rule returns data,
 *  - a forced breach (a second backend with a high LLM_ERROR_RATE) fires the shipped stream-success
 *    alert, which reaches a real Alertmanager — configured from alerts/alertmanager.yml with its
 *    receivers pointed at a webhook server in this test — and arrives at the pager and the
 *    chatpulse health webhook, while the warning twin is inhibited and the healthy backend stays quiet.
 *
 * The only change to the rules is `for:` (shortened to 1s) and the 1-minute interval of the 30-day
 * budget group; every expression is the shipped one. Needs prometheus and alertmanager on PATH, Redis
 * and Postgres on 127.0.0.1 (as in CI), and `npm run build` (npm test's pretest) for the register hook.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { queryPanels, loadDashboards, variableQuery } from './lib/dashboards';
import { extractPromql, substituteGrafanaVariables } from './lib/promql';
import { ALERTS, REPO, requireTool } from './lib/repo';
import { loadRules, recordingRules, ruleFiles } from './lib/rules';

const REGISTER = path.join(REPO, 'dist', 'instrumentation', 'register.js');
const SERVER = path.join(REPO, 'examples', 'chatbot', 'server.js');
const TRAFFIC = path.join(REPO, 'examples', 'chatbot', 'traffic.js');
const STEADY = 'chatpulse-live-steady';
const BREACH = 'chatpulse-live-breach';
const BREACH_ALERT = 'ChatbotStreamSuccessRateLow';
const TRAFFIC_MS = 45_000;

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  output(): string;
}
const procs: Proc[] = [];

function start(name: string, cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, { cwd: REPO, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const p = { name, child, output: () => out };
  procs.push(p);
  return p;
}

async function stopAll(): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          const kill = setTimeout(() => p.child.kill('SIGKILL'), 3000);
          p.child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          p.child.kill('SIGTERM');
        }),
    ),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs` with `describe()`. */
async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, describe: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}\n${describe()}`);
    }
    await sleep(500);
  }
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
let promUrl = '';
let amUrl = '';

async function promQuery(query: string): Promise<Sample[]> {
  const res = await fetch(`${promUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query }),
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: Sample[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${body.error} — ${query}`);
  if (body.data.resultType !== 'vector') throw new Error(`expected a vector from ${query}, got ${body.data.resultType}`);
  return body.data.result;
}
const finite = (r: Sample[]) => r.filter((s) => Number.isFinite(Number(s.value[1])));

interface Webhook {
  path: string;
  body: { receiver: string; status: string; alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[] };
}
const webhooks: Webhook[] = [];
let hookServer: http.Server | undefined;
const trafficStop = new AbortController();
let trafficRuns: Promise<unknown>[] = [];
let tmp = '';
const backendPorts: Record<string, { app: number; metrics: number }> = {};
let prometheus: Proc;
let alertmanager: Proc;
const diagnostics = () => procs.map((p) => `--- ${p.name} (exit ${p.child.exitCode ?? p.child.signalCode ?? 'running'})\n${p.output().slice(-3000)}`).join('\n');

/** The shipped rule files with only `for:` shortened and group intervals removed. */
function writeTestRules(dir: string): string[] {
  const out: string[] = [];
  for (const file of ruleFiles()) {
    const doc = YAML.parse(fs.readFileSync(file, 'utf8')) as { groups: { interval?: string; rules: { alert?: string; for?: string; expr: string }[] }[] };
    for (const g of doc.groups) {
      delete g.interval;
      for (const r of g.rules) if (r.alert !== undefined) r.for = '1s';
    }
    const target = path.join(dir, path.basename(file));
    fs.writeFileSync(target, YAML.stringify(doc, { lineWidth: 0 }));
    out.push(target);
  }
  return out;
}

/** alerts/alertmanager.yml with every receiver pointed at this test's webhook server and short timers. */
function writeTestAlertmanagerConfig(file: string, hookPort: number): void {
  const cfg = YAML.parse(fs.readFileSync(path.join(ALERTS, 'alertmanager.yml'), 'utf8')) as {
    route: Record<string, unknown> & { routes?: Record<string, unknown>[] };
    receivers: { name: string; webhook_configs?: { url: string }[] }[];
  };
  const fast = (r: Record<string, unknown>) => {
    if (r.group_wait !== undefined || r === cfg.route) r.group_wait = '1s';
    if (r.group_interval !== undefined || r === cfg.route) r.group_interval = '1s';
    if (r.repeat_interval !== undefined || r === cfg.route) r.repeat_interval = '1m';
    for (const child of (r.routes as Record<string, unknown>[] | undefined) ?? []) fast(child);
  };
  fast(cfg.route);
  cfg.receivers = cfg.receivers.map((r) => {
    // The health receiver keeps its path; pager and chat get one path each.
    const shipped = r.webhook_configs?.[0]?.url;
    const urlPath = shipped !== undefined ? new URL(shipped).pathname : `/receiver/${r.name}`;
    return { name: r.name, webhook_configs: [{ url: `http://127.0.0.1:${hookPort}${urlPath}`, send_resolved: true }] };
  });
  fs.writeFileSync(file, YAML.stringify(cfg));
}

describe('live: Prometheus scrapes the instrumented sample backend', () => {
  beforeAll(async () => {
    const prometheusBin = requireTool('prometheus');
    const alertmanagerBin = requireTool('alertmanager');
    for (const f of [REGISTER, SERVER, TRAFFIC]) {
      if (!fs.existsSync(f)) throw new Error(`${f} is missing: build with \`npm run build\` (npm test does it in pretest) and check examples/chatbot`);
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chatpulse-live-'));

    // Webhook receiver standing in for PagerDuty, Slack and the chatpulse health service.
    const hookPort = await freePort();
    hookServer = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        try {
          webhooks.push({ path: req.url ?? '', body: JSON.parse(body) as Webhook['body'] });
        } catch {
          // not an Alertmanager payload
        }
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => hookServer!.listen(hookPort, '127.0.0.1', r));

    // Two instrumented backends: a steady one and one that fails most answers.
    const redisPrefix = `chatpulse-live-${process.pid}-${Date.now()}:`;
    const fastKnobs = {
      KB_RETRIEVAL_MS: '20',
      KB_RETRIEVAL_JITTER_MS: '5',
      KB_CACHE_TTL_S: '120',
      LLM_FIRST_TOKEN_MS: '60',
      LLM_FIRST_TOKEN_JITTER_MS: '20',
      LLM_TOKEN_INTERVAL_MS: '5',
      LLM_TOKEN_JITTER_MS: '2',
      LLM_TOKENS: '12',
      TTS_FIRST_AUDIO_MS: '30',
      TTS_FIRST_AUDIO_JITTER_MS: '10',
      TTS_CHUNKS: '2',
      TTS_CHUNK_INTERVAL_MS: '5',
      TTS_CACHE_TTL_S: '120',
      SSE_PING_MS: '0',
      // The answer comes through the openai SDK from the sample's local model server: the Model calls row.
      LLM_API: 'openai',
      // And its share of the first token: the breakdown panel (opt-in).
      CHATPULSE_FIRST_TOKEN_BREAKDOWN: 'true',
    };
    for (const [service, errorRate] of [
      [STEADY, '0'],
      [BREACH, '0.6'],
    ] as const) {
      const ports = { app: await freePort(), metrics: await freePort() };
      backendPorts[service] = ports;
      start(service, process.execPath, ['--require', REGISTER, SERVER], {
        ...fastKnobs,
        PORT: String(ports.app),
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(ports.metrics),
        OTEL_SERVICE_NAME: service,
        CHATPULSE_HEALTH_PORT: '0',
        REDIS_KEY_PREFIX: redisPrefix,
        LLM_ERROR_RATE: errorRate,
        // Half the model failures cut the stream (the rest are error events in a completed stream),
        // so the breach shows in the success rate within the first few dozen streams.
        LLM_ERROR_THROW_RATIO: '0.5',
        TTS_ERROR_RATE: '0.02',
      });
    }

    // Prometheus with the shipped rules, scraping both backends every second.
    const rulesDir = path.join(tmp, 'rules');
    fs.mkdirSync(rulesDir);
    const rules = writeTestRules(rulesDir);
    const promPort = await freePort();
    const amPort = await freePort();
    const promConfig = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: rules,
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [STEADY, BREACH].map((s) => ({ job_name: `chatbot-${s}`, static_configs: [{ targets: [`127.0.0.1:${backendPorts[s]!.metrics}`] }] })),
    };
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), YAML.stringify(promConfig));
    prometheus = start('prometheus', prometheusBin, [
      `--config.file=${path.join(tmp, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(tmp, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--storage.tsdb.retention.time=1h',
    ]);
    promUrl = `http://127.0.0.1:${promPort}`;

    const amConfig = path.join(tmp, 'alertmanager.yml');
    writeTestAlertmanagerConfig(amConfig, hookPort);
    alertmanager = start('alertmanager', alertmanagerBin, [
      `--config.file=${amConfig}`,
      `--storage.path=${path.join(tmp, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    amUrl = `http://127.0.0.1:${amPort}`;

    const ready = async (url: string) => ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined);
    await waitFor('Prometheus ready', 20_000, () => ready(`${promUrl}/-/ready`), diagnostics);
    await waitFor('Alertmanager ready', 20_000, () => ready(`${amUrl}/-/ready`), diagnostics);
    for (const s of [STEADY, BREACH]) await waitFor(`${s} ready`, 30_000, () => ready(`http://127.0.0.1:${backendPorts[s]!.app}/healthz`), diagnostics);

    // Traffic from the sample's own driver, in this process, until the tests are done (bounded).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { driveTraffic } = require(TRAFFIC) as { driveTraffic: (o: Record<string, unknown>) => Promise<unknown> };
    trafficRuns = [STEADY, BREACH].map((s) =>
      driveTraffic({
        baseUrl: `http://127.0.0.1:${backendPorts[s]!.app}`,
        rps: 10,
        durationMs: TRAFFIC_MS,
        concurrency: 12,
        audioRatio: 0.5,
        abortRatio: 0.1,
        signal: trafficStop.signal,
      }).catch(() => undefined),
    );
  }, 90_000);

  afterAll(async () => {
    trafficStop.abort();
    await Promise.race([Promise.all(trafficRuns), sleep(5000)]);
    await stopAll();
    await new Promise<void>((r) => (hookServer ? hookServer.close(() => r()) : r()));
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  it('scrapes both backends', async () => {
    for (const s of [STEADY, BREACH]) {
      const up = await waitFor(`up of ${s}`, 15_000, async () => {
        const r = await promQuery(`up{job="chatbot-${s}"} == 1`);
        return r.length === 1 ? r : undefined;
      }, diagnostics);
      expect(up).toHaveLength(1);
    }
    const services = await promQuery('count by (service_name) (target_info)');
    expect(services.map((s) => s.metric.service_name).sort()).toEqual([BREACH, STEADY]);
  }, 30_000);

  it('the rules Prometheus loaded are the shipped ones, expressions unchanged', async () => {
    const res = (await (await fetch(`${promUrl}/api/v1/rules`, { signal: AbortSignal.timeout(5000) })).json()) as {
      data: { groups: { rules: { name: string; query: string; type: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = res.data.groups.flatMap((g) => g.rules);
    const shipped = loadRules();
    expect(loaded.length).toBe(shipped.length);
    for (const r of loaded) expect(r.health === 'unknown' || r.health === 'ok', `${r.name}: ${r.lastError}`).toBe(true);
    // Prometheus reformats expressions; compare the identifiers they use.
    const ids = (e: string) => {
      const x = extractPromql(e);
      return [...x.metrics, ...x.labels, ...x.functions].sort();
    };
    for (const r of shipped) {
      const twin = loaded.find((l) => l.name === (r.record ?? r.alert) && ids(l.query).join() === ids(r.expr).join());
      expect(twin, `${r.record ?? r.alert} not loaded unchanged`).toBeDefined();
    }
  });

  it('every dashboard panel query and template-variable query returns data', async () => {
    const queries: { where: string; expr: string }[] = [];
    const variables: { where: string; label: string; match: string }[] = [];
    for (const { file, dashboard } of loadDashboards()) {
      for (const p of queryPanels(dashboard)) {
        for (const t of p.targets!) queries.push({ where: `${file} "${p.title}" ${t.refId}`, expr: substituteGrafanaVariables(t.expr, { __rate_interval: '1m' }) });
      }
      for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
        const m = /^label_values\((.+), ([a-z_]+)\)$/.exec(variableQuery(v))!;
        variables.push({ where: `${file} variable ${v.name}`, label: m[2]!, match: substituteGrafanaVariables(m[1]!) });
      }
    }
    expect(queries.length).toBeGreaterThan(40);
    let missing: string[] = [];
    await waitFor(
      'data for every panel query',
      50_000,
      async () => {
        missing = [];
        for (const q of queries) if (finite(await promQuery(q.expr)).length === 0) missing.push(`${q.where}: ${q.expr}`);
        return missing.length === 0 ? true : undefined;
      },
      () => `still without data:\n${missing.join('\n')}\n${diagnostics()}`,
    );
    for (const v of variables) {
      const url = `${promUrl}/api/v1/label/${v.label}/values?${new URLSearchParams({ 'match[]': v.match.replace(/, *[a-z_]+=~"\.\*"/g, '').replace(/\{[a-z_]+=~"\.\*"\}/, '') })}`;
      const body = (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as { data: string[] };
      expect(body.data.length, `${v.where}: ${url}`).toBeGreaterThan(0);
      if (v.label === 'service_name') expect(body.data).toEqual(expect.arrayContaining([STEADY, BREACH]));
    }
  }, 70_000);

  it('every recording rule returns data', async () => {
    const names = [...new Set(recordingRules(loadRules()).map((r) => r.record!))];
    let missing: string[] = [];
    await waitFor(
      'data for every recording rule',
      30_000,
      async () => {
        missing = [];
        for (const n of names) if (finite(await promQuery(n)).length === 0) missing.push(n);
        return missing.length === 0 ? true : undefined;
      },
      () => `recording rules without data: ${missing.join(', ')}\n${diagnostics()}`,
    );
    // Both services are measured separately. Failures are random, so wait (bounded) until the
    // breach backend's ratio reflects them rather than reading it at the first scrape with data,
    // and until the steady backend's ratio exists too (the rule above may have had data from one).
    let byService: Record<string, number> = {};
    await waitFor(
      'both backends rated, the breach one below 95 % success',
      20_000,
      async () => {
        const success = await promQuery('service:chatbot_stream_success:ratio_rate5m');
        byService = Object.fromEntries(success.map((s) => [s.metric.service_name, Number(s.value[1])]));
        return byService[STEADY] !== undefined && byService[BREACH]! < 0.95 ? true : undefined;
      },
      () => `stream success by service: ${JSON.stringify(byService)}\n${diagnostics()}`,
    );
    expect(byService[STEADY]).toBe(1); // LLM_ERROR_RATE=0: every non-aborted stream completes
    expect(byService[BREACH]).toBeLessThan(0.95);
  }, 60_000);

  it('a forced breach fires the shipped alert, Alertmanager delivers it to the pager and the health webhook', async () => {
    const isBreach = (a: { labels: Record<string, string> }, severity: string) =>
      a.labels.alertname === BREACH_ALERT && a.labels.service_name === BREACH && a.labels.severity === severity;
    const delivered = (receiverPath: RegExp) =>
      webhooks.find((w) => receiverPath.test(w.path) && w.body.status === 'firing' && w.body.alerts.some((a) => a.status === 'firing' && isBreach(a, 'critical')));

    const pager = await waitFor('the critical alert at the pager receiver', 45_000, async () => delivered(/^\/receiver\/pager$/), () => {
      return `webhooks so far: ${JSON.stringify(webhooks.map((w) => [w.path, w.body.alerts.map((a) => a.labels.alertname + '/' + a.labels.severity)]))}\n${diagnostics()}`;
    });
    expect(pager.body.receiver).toBe('pager');
    const alert = pager.body.alerts.find((a) => isBreach(a, 'critical'))!;
    expect(alert.annotations.summary).toBe(`Stream success rate on ${BREACH} is below 95%`);
    expect(alert.annotations.description).toMatch(/^\d+(\.\d+)?% of streams completed over the last 5 minutes/);
    expect(alert.annotations.runbook_url).toBe(`alerts/runbooks/${BREACH_ALERT}.md`);

    // The same alert reaches the chatpulse health service's Alertmanager receiver.
    const health = await waitFor('the alert at the health webhook', 15_000, async () => delivered(/^\/api\/v1\/health\/alerts\/alertmanager$/));
    expect(health.body.receiver).toBe('chatpulse-health');

    // Prometheus shows it firing, with the value that breached.
    const firing = await promQuery(`ALERTS{alertname="${BREACH_ALERT}", alertstate="firing", service_name="${BREACH}"}`);
    expect(firing.map((s) => s.metric.severity).sort()).toEqual(['critical', 'warning']);

    // In Alertmanager the warning twin is inhibited by the critical alert.
    const warning = await waitFor('the inhibited warning in Alertmanager', 15_000, async () => {
      const res = await fetch(`${amUrl}/api/v2/alerts?${new URLSearchParams({ filter: `alertname="${BREACH_ALERT}"` })}`, { signal: AbortSignal.timeout(5000) });
      const list = (await res.json()) as { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[];
      return list.find((a) => isBreach(a, 'warning') && a.status.state === 'suppressed');
    });
    expect(warning.status.inhibitedBy.length).toBeGreaterThan(0);

    // The steady backend, serving the same traffic without model failures, fired no such alert.
    expect(await promQuery(`ALERTS{alertname="${BREACH_ALERT}", service_name="${STEADY}"}`)).toEqual([]);
  }, 70_000);
});
