import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { resolveConfig } from '../../../instrumentation/config/env';
import { startRuntime, type Runtime } from '../../../instrumentation/runtime';
import { markInternalServer, untrackResponse } from '../../../instrumentation/hooks/internal-server';
import { MetricsView, sleep, waitFor } from '../../helpers/metrics';

const TTFT = 'chatbot.stream.time_to_first_token';
const TTFA = 'chatbot.stream.time_to_first_audio';
const DURATION = 'chatbot.stream.duration';
const ACTIVE = 'chatbot.streams.active';
const STREAMS = 'chatbot.streams';
const ERRORS = 'chatbot.errors';
const HTTP = 'http.server.request.duration';

// Timers never fire early by more than a millisecond, and on an idle machine late by a few.
const EARLY = 0.002;
const LATE = 0.04;

let runtime: Runtime;
let view: MetricsView;
let server: http.Server;
let base: string;
const releases = new Map<string, () => void>();

function sse(res: express.Response) {
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.flushHeaders();
}

beforeAll(async () => {
  const { config } = resolveConfig({ OTEL_METRICS_EXPORTER: 'none', CHATPULSE_MAX_ROUTES: '20' });
  runtime = startRuntime(config);
  view = new MetricsView(runtime.recorder);

  const app = express();
  app.use(express.json());
  // Token after ?token ms, audio after ?audio ms, end after ?end ms.
  app.get('/timed/:id', (req, res) => {
    const token = Number(req.query.token ?? 0);
    const audio = req.query.audio === undefined ? undefined : Number(req.query.audio);
    const end = Number(req.query.end ?? Math.max(token, audio ?? 0) + 10);
    sse(res);
    res.write(': keepalive\n\n');
    res.write('event: ping\ndata: {}\n\n');
    setTimeout(() => res.write('data: {"token":"Hel'), token);
    // The token event completes only here: its time is when the blank line is written.
    setTimeout(() => res.write('lo"}\n\n'), token);
    if (audio !== undefined) setTimeout(() => res.write(Buffer.from('event: audio\ndata: UklGRg==\n\n')), audio);
    setTimeout(() => res.end('event: done\ndata: [DONE]\n\n'), end);
  });
  app.get('/held/:id', (req, res) => {
    sse(res);
    res.write('data: first\n\n');
    releases.set(req.params.id, () => res.end('data: bye\n\n'));
  });
  app.get('/throws', async (_req, res) => {
    sse(res);
    res.write('data: partial\n\n');
    await sleep(20);
    throw new Error('upstream LLM exploded');
  });
  app.get('/destroyed', (_req, res) => {
    sse(res);
    res.write('data: partial\n\n');
    setTimeout(() => res.destroy(), 20);
  });
  app.get('/untracked', (_req, res) => {
    untrackResponse(res);
    sse(res);
    res.end('data: {"status":"healthy"}\n\n');
  });
  app.get('/sse-error', (_req, res) => {
    sse(res);
    res.write('event: error\ndata: {"type":"llm","message":"rate limited"}\n\n');
    res.end();
  });
  // An OpenAI-compatible upstream failing mid-stream, passed through as its error chunk.
  app.get('/openai-error', (_req, res) => {
    sse(res);
    res.write('data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n');
    res.end('data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","code":null}}\n\n');
  });
  // A body that claims gzip and is not: counted, never inspected, never thrown into the app.
  app.get('/bad-gzip', (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Encoding': 'gzip' });
    res.write('data: not gzip at all\n\n');
    setTimeout(() => res.end('data: still not\n\n'), 20);
  });
  app.get('/unavailable', (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'text/event-stream' });
    res.end('event: error\ndata: {"error":{"type":"tts"}}\n\n');
  });
  app.get('/ndjson', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8' });
    res.write('{"tok');
    setTimeout(() => res.write('en":"a"}\n'), 150);
    setTimeout(() => res.end('{"token":"b"}\n'), 200);
  });
  app.get('/tts/:id', (_req, res) => {
    res.writeHead(200, ['Content-Type', 'audio/mpeg']);
    setTimeout(() => res.write(Buffer.alloc(0)), 50);
    setTimeout(() => res.write(Buffer.from([0xff, 0xfb, 0x90])), 120);
    setTimeout(() => res.end(), 150);
  });
  app.post('/api/chat', (req, res) => {
    if (typeof req.body?.message !== 'string') {
      res.status(400).json({ error: 'message is required' });
      return;
    }
    res.json({ answer: 'ok' });
  });
  app.get('/boom', () => {
    throw new Error('sync failure before headers');
  });
  const router = express.Router();
  router.get('/items/:itemId', (_req, res) => {
    res.json({});
  });
  app.use('/api/v2', router);
  app.get('/many/:n', (_req, res) => {
    res.json({});
  });
  // What the hook left on the request objects, as the handler sees them mid-stream.
  app.get('/own-keys', (req, res) => {
    sse(res);
    res.write('data: one\n\n');
    const own = (o: object) => [...Object.getOwnPropertyNames(o), ...Object.getOwnPropertySymbols(o).map(String)];
    res.end(`data: ${JSON.stringify({ req: own(req), res: own(res) })}\n\n`);
  });

  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await runtime.shutdown();
});

/** GET that reads the whole body; resolves on end or on socket close. */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(base + path, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** Opens a stream, waits for its first bytes, and returns a function that aborts it from the client side. */
function open(path: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = http.get(base + path, (res) => {
      res.once('data', () => resolve(() => req.destroy()));
    });
    req.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
  });
}

describe('time to first token, first audio and complete response', () => {
  it('reports injected delays within a tight tolerance', async () => {
    const cases = [
      { token: 80, audio: 300, end: 400 },
      { token: 250, audio: 500, end: 600 },
      { token: 400, audio: 700, end: 800 },
    ];
    const before = view.count(TTFT, { 'http.route': '/timed/:id' });
    const t0 = view.histogram.bind(view);
    await Promise.all(cases.map((c, i) => get(`/timed/${i}?token=${c.token}&audio=${c.audio}&end=${c.end}`)));
    expect(before).toBe(0);
    const ttft = t0(TTFT, { 'http.route': '/timed/:id' });
    const ttfa = t0(TTFA, { 'http.route': '/timed/:id' });
    const dur = t0(DURATION, { 'http.route': '/timed/:id', 'chatbot.stream.outcome': 'completed' });
    expect(ttft.count).toBe(3);
    expect(ttfa.count).toBe(3);
    expect(dur.count).toBe(3);
    // Individual values are bounded through min/max; the sum bounds them all together.
    expect(ttft.min!).toBeGreaterThanOrEqual(0.08 - EARLY);
    expect(ttft.min!).toBeLessThan(0.08 + LATE);
    expect(ttft.max!).toBeGreaterThanOrEqual(0.4 - EARLY);
    expect(ttft.max!).toBeLessThan(0.4 + LATE);
    expect(ttft.sum).toBeGreaterThanOrEqual(0.73 - 3 * EARLY);
    expect(ttft.sum).toBeLessThan(0.73 + 3 * LATE);
    expect(ttfa.min!).toBeGreaterThanOrEqual(0.3 - EARLY);
    expect(ttfa.max!).toBeLessThan(0.7 + LATE);
    expect(ttfa.sum).toBeGreaterThanOrEqual(1.5 - 3 * EARLY);
    expect(ttfa.sum).toBeLessThan(1.5 + 3 * LATE);
    expect(dur.min!).toBeGreaterThanOrEqual(0.4 - EARLY);
    expect(dur.max!).toBeLessThan(0.8 + LATE);
    expect(dur.sum).toBeGreaterThanOrEqual(1.8 - 3 * EARLY);
    expect(dur.sum).toBeLessThan(1.8 + 3 * LATE);
    // Bucket placement: 0.08 → (0.05,0.1], 0.25 → (0.25,0.5] or (0.1,0.25], 0.4 → (0.25,0.5].
    const le = (edge: number) => ttft.buckets.counts.slice(0, ttft.buckets.boundaries.indexOf(edge) + 1).reduce((a, b) => a + b, 0);
    expect(le(0.1)).toBe(1);
    expect(le(0.5)).toBe(3);
  });

  it('takes NDJSON first token from the first complete line and audio/* from the first body byte', async () => {
    await get('/ndjson');
    await get('/tts/1');
    const nd = view.histogram(TTFT, { 'http.route': '/ndjson' });
    expect(nd.count).toBe(1);
    expect(nd.sum).toBeGreaterThanOrEqual(0.15 - EARLY);
    expect(nd.sum).toBeLessThan(0.15 + LATE);
    const audio = view.histogram(TTFA, { 'http.route': '/tts/:id' });
    expect(audio.count).toBe(1);
    // The empty write at 50 ms is not audio; the first byte at 120 ms is.
    expect(audio.sum).toBeGreaterThanOrEqual(0.12 - EARLY);
    expect(audio.sum).toBeLessThan(0.12 + LATE);
    expect(view.count(TTFT, { 'http.route': '/tts/:id' })).toBe(0);
  });
});

describe('active streams and outcomes', () => {
  it('counts held streams exactly and returns to zero after release and client abort', async () => {
    const aborts = await Promise.all([1, 2, 3, 4, 5].map((i) => open(`/held/h${i}`)));
    const route = { 'http.route': '/held/:id' };
    expect(view.value(ACTIVE, route)).toBe(5);
    expect(view.value('http.server.active_requests', { 'http.request.method': 'GET' })).toBeGreaterThanOrEqual(5);
    releases.get('h1')!();
    releases.get('h2')!();
    await waitFor(() => view.value(ACTIVE, route) === 3, 2000, 'two released');
    aborts[2]!();
    aborts[3]!();
    aborts[4]!();
    await waitFor(() => view.value(ACTIVE, route) === 0, 2000, 'aborted streams to close');
    expect(view.value(STREAMS, { ...route, 'chatbot.stream.outcome': 'completed' })).toBe(2);
    expect(view.value(STREAMS, { ...route, 'chatbot.stream.outcome': 'aborted' })).toBe(3);
    expect(view.value(STREAMS, { ...route, 'chatbot.stream.outcome': 'failed' })).toBe(0);
    expect(view.count(DURATION, { ...route, 'chatbot.stream.outcome': 'aborted' })).toBe(3);
  });

  it('on a keep-alive connection, counts each stream once: completed ones stay completed when the client later aborts', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const route = { 'http.route': '/held/:id' };
    const before = (o: string) => view.value(STREAMS, { ...route, 'chatbot.stream.outcome': o });
    const [completed0, aborted0] = [before('completed'), before('aborted')];
    const sockets = new Set<unknown>();
    for (const id of ['ka1', 'ka2']) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${base}/held/${id}`, { agent }, (res) => {
          sockets.add(res.socket);
          res.once('data', () => releases.get(id)!());
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
      });
    }
    const abort = await new Promise<() => void>((resolve) => {
      const req = http.get(`${base}/held/ka3`, { agent }, (res) => {
        sockets.add(res.socket);
        res.once('data', () => resolve(() => req.destroy()));
      });
      req.on('error', () => undefined);
    });
    expect(sockets.size, 'all three on one connection').toBe(1);
    expect(view.value(ACTIVE, route)).toBe(1);
    abort();
    await waitFor(() => view.value(ACTIVE, route) === 0, 2000, 'aborted stream to close');
    expect(before('completed') - completed0).toBe(2);
    expect(before('aborted') - aborted0).toBe(1);
    agent.destroy();
  });

  it('counts pipelined streams on one connection, both aborted when the client goes away', async () => {
    const route = { 'http.route': '/held/:id' };
    const aborted0 = view.value(STREAMS, { ...route, 'chatbot.stream.outcome': 'aborted' });
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET /held/p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /held/p2 HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => view.value(ACTIVE, route) === 2, 2000, 'both pipelined streams open');
    socket.destroy();
    await waitFor(() => view.value(ACTIVE, route) === 0, 2000, 'both closed with the connection');
    expect(view.value(STREAMS, { ...route, 'chatbot.stream.outcome': 'aborted' }) - aborted0).toBe(2);
    releases.delete('p1');
    releases.delete('p2');
  });

  it('counts a stream whose handler throws after headers as failed, and active returns to zero', async () => {
    const errorsBefore = view.value(ERRORS, { 'error.type': 'http' });
    await get('/throws');
    await waitFor(() => view.value(STREAMS, { 'http.route': '/throws' }) === 1, 2000, 'stream end');
    expect(view.value(STREAMS, { 'http.route': '/throws', 'chatbot.stream.outcome': 'failed' })).toBe(1);
    expect(view.value(ACTIVE, { 'http.route': '/throws' })).toBe(0);
    expect(view.value(ERRORS, { 'error.type': 'http' })).toBe(errorsBefore + 1);
  });

  it('counts a stream the server destroys as failed', async () => {
    await get('/destroyed');
    await waitFor(() => view.value(STREAMS, { 'http.route': '/destroyed' }) === 1, 2000, 'stream end');
    expect(view.value(STREAMS, { 'http.route': '/destroyed', 'chatbot.stream.outcome': 'failed' })).toBe(1);
    expect(view.value(ACTIVE, { 'http.route': '/destroyed' })).toBe(0);
  });

  it('counts a 5xx event stream as failed and classifies SSE error events', async () => {
    const llmBefore = view.value(ERRORS, { 'error.type': 'llm' });
    const ttsBefore = view.value(ERRORS, { 'error.type': 'tts' });
    await get('/sse-error');
    await get('/unavailable');
    await waitFor(() => view.value(STREAMS, { 'http.route': '/unavailable' }) === 1, 2000, 'stream end');
    // An error event in a stream that still ends normally is an error, not a failed stream.
    expect(view.value(STREAMS, { 'http.route': '/sse-error', 'chatbot.stream.outcome': 'completed' })).toBe(1);
    expect(view.value(STREAMS, { 'http.route': '/unavailable', 'chatbot.stream.outcome': 'failed' })).toBe(1);
    expect(view.value(ERRORS, { 'error.type': 'llm' })).toBe(llmBefore + 1);
    // The failed stream is counted once, under the class its error event named.
    expect(view.value(ERRORS, { 'error.type': 'tts' })).toBe(ttsBefore + 1);
    expect(view.count(TTFT, { 'http.route': '/sse-error' })).toBe(0);
  });

  it('an OpenAI error chunk is an llm error and no first token', async () => {
    const before = view.value(ERRORS, { 'error.type': 'llm' });
    await get('/openai-error');
    await waitFor(() => view.value(STREAMS, { 'http.route': '/openai-error' }) === 1, 2000, 'stream end');
    expect(view.value(ERRORS, { 'error.type': 'llm' })).toBe(before + 1);
    expect(view.count(TTFT, { 'http.route': '/openai-error' })).toBe(0);
  });

  it('a body that fails to decode is counted as a stream, not inspected, and ends', async () => {
    const r = await get('/bad-gzip');
    expect(r.status).toBe(200);
    await waitFor(() => view.value(STREAMS, { 'http.route': '/bad-gzip' }) === 1, 2000, 'stream end');
    expect(view.value(STREAMS, { 'http.route': '/bad-gzip', 'chatbot.stream.outcome': 'completed' })).toBe(1);
    expect(view.value(ACTIVE, { 'http.route': '/bad-gzip' })).toBe(0);
    expect(view.count(TTFT, { 'http.route': '/bad-gzip' })).toBe(0);
  });
});

describe('HTTP request duration', () => {
  it('uses the route template, never the raw path, and records status and error.type', async () => {
    await get('/api/v2/items/123');
    await get('/api/v2/items/456');
    await get('/boom');
    await get('/no/such/path');
    expect(view.count(HTTP, { 'http.route': '/api/v2/items/:itemId', 'http.response.status_code': 200 })).toBe(2);
    const boom = view.histogram(HTTP, { 'http.route': '/boom' });
    expect(boom.count).toBe(1);
    const m = view.metric(HTTP)!;
    const boomPoint = (m.dataPoints as { attributes: Record<string, unknown> }[]).find((p) => p.attributes['http.route'] === '/boom')!;
    expect(boomPoint.attributes['http.response.status_code']).toBe(500);
    expect(boomPoint.attributes['error.type']).toBe('500');
    expect(view.count(HTTP, { 'http.route': 'unmatched', 'http.response.status_code': 404 })).toBe(1);
    const paths = (m.dataPoints as { attributes: Record<string, unknown> }[]).map((p) => p.attributes['http.route']);
    expect(paths).not.toContain('/api/v2/items/123');
    expect(paths).not.toContain('/no/such/path');
  });

  it('counts 400 responses as validation errors', async () => {
    const before = view.value(ERRORS, { 'error.type': 'validation' });
    await new Promise<void>((resolve) => {
      const req = http.request(base + '/api/chat', { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.end('{}');
    });
    expect(view.value(ERRORS, { 'error.type': 'validation' })).toBe(before + 1);
    expect(view.count(HTTP, { 'http.route': '/api/chat', 'http.request.method': 'POST', 'http.response.status_code': 400 })).toBe(1);
  });

  it('does not count requests to chatpulse internal servers', async () => {
    const internal = markInternalServer(http.createServer((_q, r) => r.end('ok')));
    await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
    const before = view.count(HTTP);
    await new Promise<void>((resolve) => {
      http.get(`http://127.0.0.1:${(internal.address() as AddressInfo).port}/metrics`, (res) => {
        res.resume();
        res.on('end', resolve);
      });
    });
    internal.close();
    expect(view.count(HTTP)).toBe(before);
  });

  it('does not count an untracked event stream (Chatpulse\'s own live feed) as a chatbot stream', async () => {
    await get('/untracked');
    expect(view.value(STREAMS, { 'http.route': '/untracked' })).toBe(0);
    expect(view.count(TTFT, { 'http.route': '/untracked' })).toBe(0);
    expect(view.count(HTTP, { 'http.route': '/untracked' })).toBe(1);
  });

  it('adds no property to the request or response (their hidden classes stay the app\'s own)', async () => {
    const { body } = await get('/own-keys');
    const keys = JSON.parse(body.split('\n\n')[1]!.slice('data: '.length)) as { req: string[]; res: string[] };
    expect(keys.res).toContain('statusCode');
    expect([...keys.req, ...keys.res].filter((k) => /chatpulse/i.test(k))).toEqual([]);
  });

  it('collapses routes past the cardinality limit into one value', async () => {
    // The limit is 20 routes; this app already used several, so 30 distinct templates overflow.
    const app = express();
    for (let i = 0; i < 30; i++) app.get(`/r${i}`, (_q, r) => void r.end());
    const s = app.listen(0, '127.0.0.1');
    await new Promise((r) => s.once('listening', r));
    const port = (s.address() as AddressInfo).port;
    for (let i = 0; i < 30; i++) {
      await new Promise<void>((resolve) =>
        http.get(`http://127.0.0.1:${port}/r${i}`, (res) => {
          res.resume();
          res.on('end', resolve);
        }),
      );
    }
    s.close();
    const routes = new Set(
      (view.metric(HTTP)!.dataPoints as { attributes: Record<string, unknown> }[]).map((p) => p.attributes['http.route']),
    );
    expect(routes.size).toBeLessThanOrEqual(21);
    expect(routes.has('_OTHER')).toBe(true);
  });
});
