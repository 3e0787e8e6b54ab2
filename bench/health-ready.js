'use strict';
/**
 * Readiness under polling: the instrumented sample backend serves /api/v1/health/ready (zero-code
 * health, CHATPULSE_HEALTH_PORT) while this script polls it for --duration seconds over
 * --connections keep-alive connections, each sending its next request as soon as the previous
 * answer is in (closed loop; with 2 connections that is several thousand polls a second here, so
 * latency is service time, not queueing), and counts every query the health service sends to
 * Postgres meanwhile, at the wire, through a counting TCP proxy.
 *
 * The claim it measures: endpoints answer from stored results, so the poll rate does not reach the
 * database — queries per second stay bounded by the check interval, not by the polls.
 *
 *   npm run build && node bench/health-ready.js [--duration 10] [--connections 2] [--json out.json]
 */
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { registerOf } = require('./lib/ref');
const { spawn } = require('node:child_process');
const { writeFileSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { parseArgs } = require('node:util');

const ROOT = path.resolve(__dirname, '..');

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '2' },
      json: { type: 'string' },
    },
  });
  const o = { duration: Number(values.duration), connections: Number(values.connections), warmup: Number(values.warmup), json: values.json };
  if (!(o.duration > 0) || !(o.connections >= 1) || !(o.warmup >= 0)) throw new Error('bad options');
  return o;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A TCP proxy to Postgres that counts queries: simple-protocol Query ('Q') and extended-protocol
 * Execute ('E') messages from client to server. The first message of a connection (startup or
 * SSL request) has no type byte.
 */
function countingProxy(targetPort) {
  const counter = { queries: 0, connections: 0 };
  const server = net.createServer((client) => {
    counter.connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let untyped = true;
    client.on('data', (chunk) => {
      upstream.write(chunk);
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (untyped) {
          if (buf.length < 8) break;
          const len = buf.readInt32BE(0);
          if (buf.length < len) break;
          const code = buf.readInt32BE(4);
          buf = buf.subarray(len);
          // SSLRequest / GSSENCRequest are followed by the real (also untyped) startup message.
          if (code !== 80877103 && code !== 80877104) untyped = false;
          continue;
        }
        if (buf.length < 5) break;
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) break;
        const type = String.fromCharCode(buf[0]);
        if (type === 'Q' || type === 'E') counter.queries++;
        buf = buf.subarray(1 + len);
      }
    });
    upstream.on('data', (d) => client.write(d));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port, counter })));
}

function get(agent, port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
  });
}

async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if (await fn()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Closed loop: each connection sends its next request when the previous answer is in. */
async function poll(port, connections, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  const statuses = {};
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const status = await get(agent, port, '/api/v1/health/ready').catch(() => 'error');
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)];
  return { requests: latencies.length, rps: latencies.length / elapsed, statuses, latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: latencies[latencies.length - 1] } };
}

async function main() {
  const o = options();
  const proxy = await countingProxy(5432);
  const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-bench-'));
  const config = path.join(dir, 'health.yaml');
  // Only the health service talks to Postgres through the proxy; the sample app uses its own default.
  writeFileSync(config, `database:\n  url: postgres://postgres@127.0.0.1:${proxy.port}/postgres\n  interval: 10s\n  timeout: 2s\n`);
  const [appPort, healthPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, ['--require', registerOf(), path.join(ROOT, 'examples/chatbot/server.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(appPort), CHATPULSE_HEALTH_PORT: String(healthPort), CHATPULSE_HEALTH_CONFIG: config, CHATPULSE_HEALTH_RATE_LIMITS: 'off', OTEL_METRICS_EXPORTER: 'none', DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.on('exit', stop);
  try {
    const agent = new http.Agent({ keepAlive: false });
    await waitFor(async () => (await get(agent, healthPort, '/api/v1/health/ready')) === 200, 30_000, 'the health endpoint');
    if (o.warmup > 0) await poll(healthPort, o.connections, o.warmup);
    const before = { queries: proxy.counter.queries, connections: proxy.counter.connections };
    const t0 = performance.now();
    const result = await poll(healthPort, o.connections, o.duration);
    const seconds = (performance.now() - t0) / 1000;
    const queries = proxy.counter.queries - before.queries;
    const report = {
      durationSeconds: Math.round(seconds * 10) / 10,
      connections: o.connections,
      ...result,
      postgres: { queries, queriesPerSecond: Math.round((queries / seconds) * 100) / 100, newConnections: proxy.counter.connections - before.connections },
    };
    const f = (n) => n.toFixed(2);
    console.log(`polled /api/v1/health/ready for ${report.durationSeconds} s over ${o.connections} keep-alive connections (closed loop)`);
    console.log(`  ${result.requests} requests, ${Math.round(result.rps)} req/s, statuses ${JSON.stringify(result.statuses)}`);
    console.log(`  latency ms: p50 ${f(result.latencyMs.p50)}  p90 ${f(result.latencyMs.p90)}  p99 ${f(result.latencyMs.p99)}  max ${f(result.latencyMs.max)}`);
    console.log(`  queries that reached Postgres meanwhile: ${queries} (${report.postgres.queriesPerSecond}/s; check interval 10 s, alert store evaluation 30 s)`);
    if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2));
  } finally {
    stop();
    proxy.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
