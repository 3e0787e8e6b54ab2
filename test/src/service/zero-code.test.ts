import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { createServer, Socket, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { closedPort, ToggleProxy } from '../../helpers/net';
import { TempCluster } from '../../helpers/pg-cluster';
import { QUICK_SAMPLE_ENV } from '../../helpers/sample-app';

/**
 * Zero-code health: the sample backend under `--require chatpulse/register` with
 * CHATPULSE_HEALTH_PORT set, against real Postgres and Redis that the test stops, hangs and
 * brings back.
 */
const ROOT = path.resolve(__dirname, '../../..');
const REGISTER = path.join(ROOT, 'dist/instrumentation/register.js');
const SERVER = path.join(ROOT, 'examples/chatbot/server.js');
const CHECK_TIMEOUT_MS = 1000;
const CHECK_INTERVAL_MS = 500;
// Interval + timeout + one evaluation of slack: how soon a failure must show.
const DETECT_MS = CHECK_INTERVAL_MS + CHECK_TIMEOUT_MS + 1500;

const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-zc-'));
const configFile = path.join(dir, 'health.yaml');
writeFileSync(
  configFile,
  [
    'minSamples: 1000',
    `database: { interval: ${CHECK_INTERVAL_MS}ms, timeout: ${CHECK_TIMEOUT_MS}ms }`,
    `redis: { interval: ${CHECK_INTERVAL_MS}ms, timeout: ${CHECK_TIMEOUT_MS}ms }`,
    'evaluationInterval: 200ms',
  ].join('\n'),
);

interface App {
  child: ChildProcess;
  port: number;
  health: string;
  stderr: () => string;
}

async function startApp(env: Record<string, string>): Promise<App> {
  const port = await closedPort();
  const healthPort = await closedPort();
  let err = '';
  const child = spawn(process.execPath, ['--require', REGISTER, SERVER], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      CHATPULSE_HEALTH_PORT: String(healthPort),
      CHATPULSE_HEALTH_HOST: '127.0.0.1',
      CHATPULSE_HEALTH_CONFIG: configFile,
      CHATPULSE_HEALTH_RATE_LIMITS: 'off',
      OTEL_METRICS_EXPORTER: 'none',
      ...QUICK_SAMPLE_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.resume();
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const app = { child, port, health: `http://127.0.0.1:${healthPort}`, stderr: () => err };
  await until(async () => (await get(`${app.health}/api/v1/health/live`)).status === 200, 15_000, 'health port');
  await until(async () => (await get(`http://127.0.0.1:${port}/healthz`)).status === 200, 15_000, 'app port');
  return app;
}

async function stopApp(app: App | undefined): Promise<void> {
  if (app === undefined || app.child.exitCode !== null) return;
  app.child.kill('SIGKILL');
  await new Promise((r) => app.child.once('exit', r));
}

function get(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** Polls until `fn` holds; on timeout the error carries the app's stderr, which says why. */
async function until(fn: () => Promise<boolean>, timeoutMs: number, what: string, app?: App): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await fn()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  const tail = app === undefined ? '' : `\napp exit code ${app.child.exitCode}, stderr:\n${app.stderr().slice(-3000)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
}

/** One SSE chat turn; resolves with the raw body once the stream ends. */
function chat(port: number, message = 'How do I reset my password?'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/api/chat/stream', method: 'POST', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ message }));
  });
}

/** A TCP proxy to Postgres that can freeze: connections stay open and nothing is answered. */
class FreezingProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly held = new Set<Socket>();
  frozen = false;
  port = 0;

  async listen(target: number): Promise<this> {
    this.server = createServer((client) => {
      client.on('error', () => {});
      if (this.frozen) {
        this.held.add(client);
        return;
      }
      const upstream = new Socket();
      upstream.on('error', () => {});
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const close = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close);
      upstream.on('close', close);
      upstream.connect(target, '127.0.0.1');
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Hang: open connections stop forwarding, new ones are accepted and never answered. */
  freeze(): void {
    this.frozen = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Recover: cut the frozen connections (clients reconnect) and forward again. */
  thaw(): void {
    this.frozen = false;
    for (const [client] of this.pairs) client.destroy();
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    this.thaw();
    await new Promise((r) => this.server?.close(r));
  }
}

const PASSWORD = 'Zer0C0de-Secret-Pw';
let cluster: TempCluster;
let redisProxy: ToggleProxy;

beforeAll(async () => {
  cluster = await TempCluster.create(PASSWORD);
  await cluster.start();
  redisProxy = await new ToggleProxy(6379).up();
}, 60_000);

afterAll(async () => {
  await redisProxy?.down();
  await cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('zero-code health inside the backend process', () => {
  let app: App | undefined;
  afterAll(() => stopApp(app));

  it('Postgres stopped: ready turns 503 within the check timeout while live stays 200, never showing the password, and recovers', async () => {
    app = await startApp({ DATABASE_URL: cluster.url, REDIS_URL: `redis://127.0.0.1:${redisProxy.port}` });
    await until(async () => (await get(`${app!.health}/api/v1/health/ready`)).status === 200, 10_000, 'ready', app);
    const db = JSON.parse((await get(`${app.health}/api/v1/health/database?details=true`)).body);
    expect(db.status).toBe('healthy');
    expect(db.details.version).toMatch(/PostgreSQL 1\d/);

    await cluster.stop();
    const took = await until(async () => (await get(`${app!.health}/api/v1/health/ready`)).status === 503, DETECT_MS + 2000, 'ready 503', app);
    expect(took).toBeLessThan(DETECT_MS);
    expect((await get(`${app.health}/api/v1/health/live`)).status).toBe(200);
    const bodies = await Promise.all(
      ['/api/v1/health', '/api/v1/health/deep', '/api/v1/health/database?details=true', '/api/v1/health/ready', '/api/metrics/health/streaming'].map(
        async (p) => (await get(app!.health + p)).body,
      ),
    );
    expect(JSON.parse(bodies[2]!).status).toBe('unhealthy');
    for (const b of bodies) expect(b).not.toContain(PASSWORD);
    expect(app.stderr()).not.toContain(PASSWORD);
    // The app itself keeps streaming while its database is down.
    expect(await chat(app.port)).toContain('event: done');

    await cluster.start();
    await until(async () => (await get(`${app!.health}/api/v1/health/ready`)).status === 200, DETECT_MS + 5000, 'ready again', app);
    expect(app.child.exitCode, 'the host app survived its database going away').toBeNull();
  });

  it('Redis down: the app keeps streaming and health says why, degraded but ready (optional dependency)', async () => {
    await redisProxy.down();
    await until(async () => JSON.parse((await get(`${app!.health}/api/v1/health/redis`)).body).status === 'degraded', DETECT_MS, 'redis fail');
    const redis = JSON.parse((await get(`${app!.health}/api/v1/health/redis`)).body);
    expect(redis.required).toBe(false);
    expect(redis.message).toMatch(/refused|closed|connect/i);
    expect((await get(`${app!.health}/api/v1/health/ready`)).status).toBe(200);
    expect(await chat(app!.port, 'What are your opening hours?')).toContain('event: done');
    await redisProxy.up();
    await until(async () => JSON.parse((await get(`${app!.health}/api/v1/health/redis`)).body).status === 'healthy', DETECT_MS + 3000, 'redis back');
  });

  it('SIGTERM: readiness 503 at once, the open stream drains and completes, then the process exits', async () => {
    const slow = await startApp({
      DATABASE_URL: cluster.url,
      REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
      LLM_TOKEN_INTERVAL_MS: '100',
      LLM_TOKENS: '20',
    });
    try {
      const stream = chat(slow.port, 'Tell me a long story');
      await new Promise((r) => setTimeout(r, 400));
      const exited = new Promise<{ code: number | null; signal: string | null }>((r) => slow.child.once('exit', (code, signal) => r({ code, signal })));
      const t0 = Date.now();
      slow.child.kill('SIGTERM');
      await until(async () => (await get(`${slow.health}/api/v1/health/ready`, 500)).status === 503, 1000, 'ready 503 after SIGTERM');
      expect(Date.now() - t0).toBeLessThan(1000);
      const body = await stream;
      expect(body).toContain('event: done');
      const exit = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
      expect(exit).not.toBeNull();
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await stopApp(slow);
    }
  });
});

describe('Postgres hung (accepts, never answers)', () => {
  let app: App | undefined;
  let proxy: FreezingProxy;
  afterAll(async () => {
    await stopApp(app);
    await proxy?.close();
  });

  it('ready turns 503 within the check timeout plus a margin, live stays 200, both recover', async () => {
    proxy = await new FreezingProxy().listen(5432);
    app = await startApp({ DATABASE_URL: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, REDIS_URL: 'redis://127.0.0.1:6379' });
    await until(async () => (await get(`${app!.health}/api/v1/health/ready`)).status === 200, 10_000, 'ready', app);
    proxy.freeze();
    const took = await until(async () => (await get(`${app!.health}/api/v1/health/ready`)).status === 503, DETECT_MS + 2000, 'ready 503', app);
    expect(took).toBeLessThan(DETECT_MS);
    // Endpoints answer at once from stored results while the database hangs.
    const t0 = Date.now();
    const live = await get(`${app.health}/api/v1/health/live`);
    const health = await get(`${app.health}/api/v1/health`);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(live.status).toBe(200);
    expect(JSON.parse(health.body).issues.join(' ')).toMatch(/database: .*(timed out|timeout)/i);
    proxy.thaw();
    await until(async () => (await get(`${app!.health}/api/v1/health/ready`)).status === 200, DETECT_MS + 5000, 'ready again', app);
    expect(app.child.exitCode, 'the host app survived its database going away').toBeNull();
  });
});
