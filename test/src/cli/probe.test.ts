/**
 * `chatpulse probe`: the built CLI run as a child process against small local HTTP servers (the
 * /api/v1/health and streaming-health bodies, health+json, 401, 429, HTML, a hang, a closed port) and against
 * the real health router. Checks the exit code (0 healthy, 1 degraded, 2 unhealthy, 3
 * unreachable) and the one-line verdict.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { createHealthRouter } from '../../../src/http/router';
import { listenHealthServer, type HealthServer } from '../../../src/http/server';
import { HealthService } from '../../../src/service/health-service';
import type { SignalSnapshot } from '../../../src/signals/snapshot';
import { freePort } from '../../fixtures/harness';
import { ensureBuilt, runCli } from './cli-helpers';

const SEED_000_HEALTHY = {
  status: 'healthy',
  timestamp: '2025-01-23T10:30:00.000Z',
  uptime: 86400,
  services: { database: { status: 'healthy' }, streaming: { status: 'healthy' } },
  metrics: { uptime: 86400, memory: {} },
};

const SEED_004_DEGRADED = {
  success: true,
  status: 'degraded',
  timestamp: '2025-10-11T10:30:00.000Z',
  checks: {
    errorRate: { status: 'pass', value: '0.5%', threshold: '≤5%' },
    timeToFirstToken: { status: 'warn', value: '1200ms', threshold: '≤1000ms (fail >2000ms)' },
    redis: { status: 'pass', value: 'connected' },
  },
  issues: ['timeToFirstToken: Time to first token (p95) 1200ms breaches ≤1000ms (fail >2000ms)'],
};

const HEALTH_JSON_FAIL = {
  status: 'fail',
  version: '1',
  serviceId: 'chatbot',
  output: 'database: connection refused',
  checks: { 'database:responseTime': [{ componentId: 'database', status: 'fail', output: 'connection refused' }] },
};

let fake: http.Server;
let base: string;
const seen: { path: string; accept?: string; authorization?: string }[] = [];
const hanging = new Set<http.ServerResponse>();

function json(res: http.ServerResponse, status: number, body: unknown, type = 'application/json') {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8` }).end(JSON.stringify(body));
}

beforeAll(async () => {
  ensureBuilt();
  fake = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push({ path, accept: req.headers.accept, authorization: req.headers.authorization });
    switch (path) {
      case '/api/v1/health':
        return json(res, 200, SEED_000_HEALTHY);
      case '/api/metrics/health/streaming':
        return json(res, 200, SEED_004_DEGRADED);
      case '/health-json':
        return json(res, 503, HEALTH_JSON_FAIL, 'application/health+json');
      case '/unhealthy':
        return json(res, 503, { status: 'unhealthy', timestamp: new Date().toISOString(), issues: ['database: connection refused'] });
      case '/ready':
        return json(res, 200, { status: 'ready', health: 'degraded', timestamp: new Date().toISOString() });
      case '/secured':
        if (req.headers.authorization !== 'Bearer s3cret') {
          res.setHeader('WWW-Authenticate', 'Bearer realm="chatpulse"');
          return json(res, 401, { error: 'missing bearer token' });
        }
        return json(res, 200, { status: 'healthy' });
      case '/limited':
        res.setHeader('Retry-After', '30');
        return json(res, 429, { error: 'too many requests' });
      case '/html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>It works!</body></html>');
        return;
      case '/no-status':
        return json(res, 200, { ok: true });
      case '/hang':
        hanging.add(res);
        return; // never answers
      default:
        return json(res, 404, { error: 'not found' });
    }
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  fake?.closeAllConnections();
  await new Promise<void>((r) => (fake ? fake.close(() => r()) : r()));
});

const VERDICT = (verdict: string, url: string) =>
  new RegExp(`^${verdict}  ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  \\(\\d+ ms\\)`);

describe('chatpulse probe: verdicts and exit codes', () => {
  it('healthy (/api/v1/health body): exit 0, one line; a base URL means /api/v1/health', async () => {
    seen.length = 0;
    const r = await runCli(['probe', base]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(VERDICT('healthy', `${base}/api/v1/health`));
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).not.toContain('issues');
    expect(r.stderr).toBe('');
    expect(seen[0]).toMatchObject({ path: '/api/v1/health', accept: 'application/json' });
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it('degraded (streaming-health body at /api/metrics/health/streaming): exit 1 with the issues', async () => {
    const url = `${base}/api/metrics/health/streaming`;
    const r = await runCli(['probe', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(VERDICT('degraded', url));
    expect(r.stdout).toContain('issues: timeToFirstToken: Time to first token (p95) 1200ms breaches ≤1000ms (fail >2000ms)');
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('unhealthy: seed body answered 503 → exit 2; health+json fail → exit 2 with its output', async () => {
    const a = await runCli(['probe', `${base}/unhealthy`]);
    expect(a.code).toBe(2);
    expect(a.stdout).toMatch(VERDICT('unhealthy', `${base}/unhealthy`));
    expect(a.stdout).toContain('issues: database: connection refused');

    const b = await runCli(['probe', `${base}/health-json`]);
    expect(b.code).toBe(2);
    expect(b.stdout).toMatch(VERDICT('unhealthy', `${base}/health-json`));
    expect(b.stdout).toContain('issues: database: connection refused');
  });

  it('readiness that is ready but degraded reports degraded', async () => {
    const r = await runCli(['probe', `${base}/ready`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(VERDICT('degraded', `${base}/ready`));
  });

  it('401: exit 3 and says a token is needed; --token or CHATPULSE_HEALTH_TOKEN gets through', async () => {
    const url = `${base}/secured`;
    const r = await runCli(['probe', url]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(VERDICT('unreachable', url));
    expect(r.stdout).toContain('HTTP 401 Unauthorized: the endpoint needs a bearer token');

    const wrong = await runCli(['probe', url, '--token', 'nope']);
    expect(wrong.code).toBe(3);
    expect(wrong.stdout).toContain('HTTP 401 Unauthorized: the token was rejected');

    expect((await runCli(['probe', url, '--token', 's3cret'])).code).toBe(0);
    expect((await runCli(['probe', url], { CHATPULSE_HEALTH_TOKEN: 's3cret' })).code).toBe(0);
  });

  it('429: exit 3, rate limited, with Retry-After', async () => {
    const r = await runCli(['probe', `${base}/limited`]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('HTTP 429 Too Many Requests: rate limited (retry after 30 s)');
  });

  it('closed port: exit 3, connection refused', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/api/v1/health`;
    const r = await runCli(['probe', url]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(VERDICT('unreachable', url));
    expect(r.stdout).toContain('connection refused (ECONNREFUSED)');
  });

  it('a server that never answers: exit 3 after --timeout, not later', async () => {
    const url = `${base}/hang`;
    const r = await runCli(['probe', url, '--timeout', '300ms']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(VERDICT('unreachable', url));
    expect(r.stdout).toContain('timeout: no complete answer within 300 ms');
    const ms = Number(/\((\d+) ms\)/.exec(r.stdout)![1]);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1500);
  });

  it('non-JSON and JSON without a status: exit 3, saying which', async () => {
    const html = await runCli(['probe', `${base}/html`]);
    expect(html.code).toBe(3);
    expect(html.stdout).toContain('HTTP 200 OK: not JSON (text/html)');
    const none = await runCli(['probe', `${base}/no-status`]);
    expect(none.code).toBe(3);
    expect(none.stdout).toContain('HTTP 200 OK: JSON without a status field');
  });

  it('--json prints one JSON object with the verdict and exit code', async () => {
    const r = await runCli(['probe', `${base}/api/metrics/health/streaming`, '--json']);
    expect(r.code).toBe(1);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(o).toMatchObject({ verdict: 'degraded', exitCode: 1, httpStatus: 200, status: 'degraded', url: `${base}/api/metrics/health/streaming` });
    expect(o.issues).toEqual([SEED_004_DEGRADED.issues[0]]);
    expect(typeof o.ms).toBe('number');
  });
});

describe('chatpulse probe: usage errors exit 2 naming the problem', () => {
  it.each([
    [['probe'], 'missing URL'],
    [['probe', 'http://x', '--bogus'], 'unknown option --bogus'],
    [['probe', 'http://x', '--timeout', '5'], '--timeout: expected a duration with a unit'],
    [['probe', 'http://x', '--timeout'], 'option --timeout needs a value'],
    [['probe', 'not a url'], 'URL: not a valid URL'],
    [['probe', 'http://a', 'http://b'], 'expected one URL'],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`chatpulse probe: ${message}`);
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await runCli(['probe', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: chatpulse probe URL');
  });
});

describe('chatpulse probe against the real health router', () => {
  let server: HealthServer;
  let service: HealthService;
  let url: string;

  beforeAll(async () => {
    // 970 completed, 30 failed: success rate 97% (warn below 98%) → degraded.
    const snapshot: SignalSnapshot = {
      windowSeconds: 300,
      timeToFirstToken: { count: 1000, p50: 0.2, p95: 0.4, p99: 0.6 },
      timeToFirstAudio: { count: 0 },
      completeResponse: { count: 970, p50: 1, p95: 2, p99: 2.5 },
      streams: { completed: 970, failed: 30, aborted: 4 },
      requests: { total: 1004, serverErrors: 5 },
      caches: { kb: { hits: 700, misses: 300 } },
      errors: { llm: 30 },
      activeStreams: 3,
      process: { memoryUtilization: 0.3, cpuUtilization: 0.2, eventLoopDelayP99: 0.01 },
      instances: 1,
    };
    const config = resolveHealthConfig({ token: 't0ken' }, {});
    service = new HealthService({ config, signals: { snapshot: () => snapshot }, autoEvaluate: false });
    await service.evaluate();
    const router = createHealthRouter({ service, logger: pino({ level: 'silent' }), serviceName: 'probe-test', version: '0.0.0' });
    server = await listenHealthServer(router, 0, '127.0.0.1');
    url = `http://127.0.0.1:${server.address.port}`;
  });

  afterAll(async () => {
    await server?.close();
    await service?.close();
  });

  it('reads the graded status and issues from /api/v1/health, /api/metrics/health/streaming and /health', async () => {
    const main = await runCli(['probe', url, '--token', 't0ken']);
    expect(main.code).toBe(1);
    expect(main.stdout).toMatch(VERDICT('degraded', `${url}/api/v1/health`));
    expect(main.stdout).toMatch(/issues: streamSuccessRate: Stream success rate 97(\.0)?% breaches/);

    const seed004 = await runCli(['probe', `${url}/api/metrics/health/streaming`], { CHATPULSE_HEALTH_TOKEN: 't0ken' });
    expect(seed004.code).toBe(1);
    expect(seed004.stdout).toContain('issues: streamSuccessRate:');

    // /health is public and carries the status only.
    const basic = await runCli(['probe', `${url}/health`]);
    expect(basic.code).toBe(1);
    expect(basic.stdout).toMatch(VERDICT('degraded', `${url}/health`));
  });

  it('the router\'s 401 without a token is unreachable (exit 3), not unhealthy', async () => {
    const r = await runCli(['probe', url]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('HTTP 401 Unauthorized');
  });
});
