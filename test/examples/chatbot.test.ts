/**
 * The sample chatbot (examples/chatbot) against the real Redis at 127.0.0.1:6379 and Postgres at
 * 127.0.0.1:5432: SSE/NDJSON/JSON/audio APIs, the knowledge-base and TTS caches, persistence,
 * validation, client disconnects, model failures, running without Redis and Postgres, SIGTERM,
 * the traffic driver and run.js. Every Redis key and conversation id carries this run's id and is
 * removed afterwards.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Running {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}
type Outcome =
  | 'ok'
  | 'llm_error'
  | 'stream_failed'
  | 'aborted'
  | 'rejected'
  | 'http_error'
  | 'network_error'
  | 'timeout'
  | 'cancelled'
  | 'dropped';
interface TrafficSummary {
  requests: number;
  maxInFlight: number;
  outcomes: Record<Outcome, number>;
  kbCache: { hit: number; miss: number };
  audioChunks: number;
  ttftMs: { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null };
}

const require = createRequire(import.meta.url);
const chatbot = require('../../examples/chatbot/server.js') as {
  start(options: Record<string, unknown>): Promise<Running>;
  kbKey(question: string): string;
};
const traffic = require('../../examples/chatbot/traffic.js') as {
  driveTraffic(options: Record<string, unknown>): Promise<TrafficSummary>;
};

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'chatbot');
const RUN = randomUUID().slice(0, 8);
const KEY_PREFIX = `chatbot-test:${RUN}:`;
const REDIS_URL = 'redis://127.0.0.1:6379';
const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const CLOSED_PORT_REDIS = 'redis://127.0.0.1:1';
const CLOSED_PORT_POSTGRES = 'postgres://postgres@127.0.0.1:1/postgres';

/** Millisecond latencies, no random failures, no keepalive pings. */
const FAST = {
  port: 0,
  redisUrl: REDIS_URL,
  redisKeyPrefix: KEY_PREFIX,
  databaseUrl: DATABASE_URL,
  kbRetrievalMs: 5,
  kbRetrievalJitterMs: 0,
  llmFirstTokenMs: 5,
  llmFirstTokenJitterMs: 2,
  llmTokenIntervalMs: 1,
  llmTokenJitterMs: 0,
  llmTokens: 12,
  llmErrorRate: 0,
  ttsFirstAudioMs: 5,
  ttsFirstAudioJitterMs: 0,
  ttsChunks: 2,
  ttsChunkIntervalMs: 1,
  ttsErrorRate: 0,
  pingIntervalMs: 0,
};

/** Environment equivalent of FAST for child processes. */
const FAST_ENV = {
  REDIS_URL,
  REDIS_KEY_PREFIX: KEY_PREFIX,
  DATABASE_URL,
  KB_RETRIEVAL_MS: '5',
  KB_RETRIEVAL_JITTER_MS: '0',
  LLM_FIRST_TOKEN_MS: '5',
  LLM_FIRST_TOKEN_JITTER_MS: '0',
  LLM_TOKEN_INTERVAL_MS: '1',
  LLM_TOKEN_JITTER_MS: '0',
  LLM_TOKENS: '12',
  LLM_ERROR_RATE: '0',
  TTS_FIRST_AUDIO_MS: '5',
  TTS_FIRST_AUDIO_JITTER_MS: '0',
  TTS_CHUNK_INTERVAL_MS: '1',
  TTS_ERROR_RATE: '0',
};

function captureLogger() {
  const lines: string[] = [];
  return {
    lines,
    info: (message: string) => lines.push(`info ${message}`),
    warn: (message: string) => lines.push(`warn ${message}`),
    error: (message: string) => lines.push(`error ${message}`),
  };
}

const conversation = (name: string) => `test-${RUN}-${name}`;

interface SseEvent {
  event: string;
  data: string;
}

/** Parses a complete SSE body; comments are returned as event ':'. */
function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      if (block.startsWith(':')) return { event: ':', data: block.slice(1).trim() };
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: data.join('\n') };
    });
}

async function sse(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const events = parseSse(await res.text());
  const tokens = events.filter((e) => e.event === 'message').map((e) => (JSON.parse(e.data) as { token: string }).token);
  const done = events.find((e) => e.event === 'done');
  return {
    res,
    events,
    tokens,
    done: done ? (JSON.parse(done.data) as Record<string, unknown>) : undefined,
  };
}

/** A JSON POST; every conversation gets this run's id unless the body names one, so afterAll can delete it. */
const postJson = (body: Record<string, unknown>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ conversationId: conversation(randomUUID().slice(0, 8)), ...body }),
});

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  return port;
}

/** A TCP proxy to a local port that can be stopped and restarted on the same port: an outage on demand. */
async function tcpProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  async function listen(port: number) {
    server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as net.AddressInfo).port;
  }
  const port = await listen(0);
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
    restart: () => listen(port),
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Runs a node script to completion, collecting its output. */
function runNode(args: string[], env: Record<string, string>, timeoutMs = 15_000) {
  const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return {
    child,
    output: () => output,
    exit: once(child, 'exit').then(([code]) => {
      clearTimeout(timer);
      return code as number | null;
    }),
  };
}

const redis = new Redis(REDIS_URL, { lazyConnect: true });
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
let app: Running;
let base: string;

beforeAll(async () => {
  await redis.connect();
  app = await chatbot.start({ ...FAST, logger: captureLogger() });
  base = `http://127.0.0.1:${app.port}`;
});

afterAll(async () => {
  await app?.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await db.query('DELETE FROM conversations WHERE id LIKE $1', [`test-${RUN}-%`]);
  await Promise.all([redis.quit(), db.end()]);
});

async function messages(conversationId: string) {
  const { rows } = await db.query<{ role: string; content: string }>(
    'SELECT role, content FROM messages WHERE conversation_id = $1 ORDER BY id',
    [conversationId],
  );
  return rows;
}

describe('sample chatbot: streaming APIs', () => {
  it('streams tokens over SSE and ends with a done event', async () => {
    const id = conversation('sse-post');
    const { res, events, tokens, done } = await sse(
      `${base}/api/chat/stream`,
      postJson({ conversationId: id, message: 'How do I reset my password?' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(tokens).toHaveLength(FAST.llmTokens);
    expect(events.at(-1)?.event).toBe('done');
    expect(done).toMatchObject({ conversationId: id, tokens: FAST.llmTokens, messageId: expect.any(String) });
  });

  it('interleaves audio events when audio=1 and caches the synthesized sentences', async () => {
    const url = `${base}/api/chat/${conversation('sse-audio')}/stream?message=${encodeURIComponent(`Audio please ${RUN}`)}&audio=1`;
    const first = await sse(url);
    const audio = first.events.filter((e) => e.event === 'audio');
    expect(first.tokens).toHaveLength(FAST.llmTokens);
    expect(audio.length).toBeGreaterThan(0);
    expect(Buffer.from(audio[0]!.data, 'base64').length).toBe(2048);
    expect(first.done).toMatchObject({ audioChunks: audio.length, ttsCache: { hit: 0 } });

    const second = await sse(url);
    expect(second.done).toMatchObject({ audioChunks: audio.length, ttsCache: { miss: 0 } });
    const ttsKeys = await redis.keys(`${KEY_PREFIX}tts:*`);
    expect(ttsKeys.length).toBeGreaterThan(0);
    expect(await redis.ttl(ttsKeys[0]!)).toBeGreaterThan(0);
  });

  it('sends keepalive comments while the model is slow', async () => {
    const slow = await chatbot.start({ ...FAST, llmFirstTokenMs: 120, llmFirstTokenJitterMs: 0, pingIntervalMs: 20, logger: captureLogger() });
    try {
      const { events, done } = await sse(`http://127.0.0.1:${slow.port}/api/chat/stream`, postJson({ message: 'ping?' }));
      expect(events.filter((e) => e.event === ':' && e.data === 'ping').length).toBeGreaterThan(1);
      expect(done).toBeDefined();
    } finally {
      await slow.close();
    }
  });

  it('answers the same question from the knowledge-base cache the second time', async () => {
    const question = `What is the refund policy for order ${RUN}?`;
    const first = await sse(`${base}/api/chat/stream`, postJson({ message: question }));
    expect(first.done).toMatchObject({ kbCache: 'miss' });

    // Case, spacing and the question mark do not matter.
    const second = await sse(`${base}/api/chat/stream`, postJson({ message: `  ${question.toUpperCase().replace('?', '')}` }));
    expect(second.done).toMatchObject({ kbCache: 'hit' });
    expect(second.tokens).toEqual(first.tokens);

    const key = `${KEY_PREFIX}${chatbot.kbKey(question)}`;
    expect(key).toMatch(/:kb:[0-9a-f]{32}$/);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('stores the question and the answer in Postgres', async () => {
    const id = conversation('persist');
    const { tokens, done } = await sse(`${base}/api/chat/stream`, postJson({ conversationId: id, message: 'Store me' }));
    expect(done).toBeDefined();
    expect(await messages(id)).toEqual([
      { role: 'user', content: 'Store me' },
      { role: 'assistant', content: tokens.join('') },
    ]);
  });

  it('serves NDJSON, a plain JSON answer, audio replay and healthz', async () => {
    const ndjson = await fetch(`${base}/api/chat/ndjson`, postJson({ message: 'Lines please' }));
    expect(ndjson.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = (await ndjson.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(lines.filter((l) => l.type === 'token')).toHaveLength(FAST.llmTokens);
    expect(lines.at(-1)).toMatchObject({ type: 'done' });

    const json = await fetch(`${base}/api/chat`, postJson({ conversationId: conversation('json'), message: 'Just JSON' }));
    const answer = (await json.json()) as { answer: string; messageId: string };
    expect(json.status).toBe(200);
    expect(answer.answer.split(' ')).toHaveLength(FAST.llmTokens);

    const tts = await fetch(`${base}/api/tts/${answer.messageId}`);
    expect(tts.status).toBe(200);
    expect(tts.headers.get('content-type')).toBe('audio/mpeg');
    expect((await tts.arrayBuffer()).byteLength).toBe(FAST.ttsChunks * 2048);
    expect((await fetch(`${base}/api/tts/999999999999`)).status).toBe(404);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('rejects invalid requests with a 400 JSON error', async () => {
    const invalid: [string, RequestInit?][] = [
      [`${base}/api/chat/stream`, postJson({ message: '' })],
      [`${base}/api/chat/stream`, postJson({ message: '   ' })],
      [`${base}/api/chat/stream`, postJson({})],
      [`${base}/api/chat/stream`, { method: 'POST' }],
      [`${base}/api/chat/stream`, postJson({ message: 'hi', conversationId: 'no spaces allowed' })],
      [`${base}/api/chat/abc/stream`],
      [`${base}/api/chat/ndjson`, postJson({ message: 42 })],
      [`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":' }],
      [`${base}/api/tts/not-a-number`],
    ];
    for (const [url, init] of invalid) {
      const res = await fetch(url, init);
      expect(res.status, `${init?.method ?? 'GET'} ${url} ${String(init?.body)}`).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: 'validation', message: expect.any(String) } });
    }
  });
});

describe('sample chatbot: failures', () => {
  it('stops generating when the client disconnects', async () => {
    // Had the stream gone on, the whole answer (30 tokens, 10 ms apart) would be stored within ~0.3 s.
    const slow = await chatbot.start({ ...FAST, llmTokens: 30, llmTokenIntervalMs: 10, logger: captureLogger() });
    try {
      const id = conversation('disconnect');
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          `http://127.0.0.1:${slow.port}/api/chat/stream`,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            res.once('data', () => {
              req.destroy(); // the user closes the tab after the first token
              resolve();
            });
          },
        );
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
        req.end(JSON.stringify({ conversationId: id, message: 'I will leave early' }));
      });
      await sleep(600);

      const connections = await new Promise<number>((resolve, reject) =>
        slow.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      );
      expect(connections).toBe(0);
      expect(await messages(id)).toEqual([{ role: 'user', content: 'I will leave early' }]);
    } finally {
      await slow.close();
    }
  });

  it('reports model failures as an error event, or fails the stream when the handler throws', async () => {
    const reported = await chatbot.start({ ...FAST, llmErrorRate: 1, llmErrorThrowRatio: 0, logger: captureLogger() });
    const logger = captureLogger();
    const thrown = await chatbot.start({ ...FAST, llmErrorRate: 1, llmErrorThrowRatio: 1, logger });
    try {
      const { events, done } = await sse(`http://127.0.0.1:${reported.port}/api/chat/stream`, postJson({ message: 'fail' }));
      expect(done).toBeUndefined();
      expect(events.at(-1)).toMatchObject({ event: 'error' });
      expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ type: 'llm', message: expect.any(String) });

      const res = await fetch(`http://127.0.0.1:${thrown.port}/api/chat/stream`, postJson({ message: 'crash' }));
      expect(res.status).toBe(200); // headers were out before the model failed
      await expect(res.text()).rejects.toThrow(); // the connection is cut, not ended cleanly
      expect(logger.lines.some((l) => l.startsWith('error') && l.includes('failed mid-stream'))).toBe(true);

      const json = await fetch(`http://127.0.0.1:${reported.port}/api/chat`, postJson({ message: 'fail' }));
      expect(json.status).toBe(502);
      expect(await json.json()).toMatchObject({ error: { type: 'llm' } });
    } finally {
      await Promise.all([reported.close(), thrown.close()]);
    }
  });

  it('keeps streaming without Redis and Postgres, logging one line for each', async () => {
    const logger = captureLogger();
    const degraded = await chatbot.start({
      ...FAST,
      redisUrl: CLOSED_PORT_REDIS,
      databaseUrl: CLOSED_PORT_POSTGRES,
      logger,
    });
    try {
      for (let i = 0; i < 3; i++) {
        const { tokens, done } = await sse(`http://127.0.0.1:${degraded.port}/api/chat/stream`, postJson({ message: 'Anyone there?', audio: true }));
        expect(tokens).toHaveLength(FAST.llmTokens);
        expect(done).toMatchObject({ kbCache: 'miss', messageId: null });
      }
      expect(logger.lines.filter((l) => l.includes('redis unreachable at redis://127.0.0.1:1'))).toHaveLength(1);
      expect(logger.lines.filter((l) => l.includes('postgres unreachable at postgres://postgres@127.0.0.1:1'))).toHaveLength(1);
      // Replaying needs the stored message: without Postgres that is a 503, not a crash.
      expect((await fetch(`http://127.0.0.1:${degraded.port}/api/tts/1`)).status).toBe(503);
    } finally {
      await degraded.close();
    }
  });

  it('rides out Redis and Postgres going away mid-run, and uses Redis again when it is back', async () => {
    const redisProxy = await tcpProxy(6379);
    const postgresProxy = await tcpProxy(5432);
    const logger = captureLogger();
    const flaky = await chatbot.start({
      ...FAST,
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
      databaseUrl: `postgres://postgres@127.0.0.1:${postgresProxy.port}/postgres`,
      logger,
    });
    const ask = () => sse(`http://127.0.0.1:${flaky.port}/api/chat/stream`, postJson({ message: `Flaky ${RUN}` }));
    const count = (text: string) => logger.lines.filter((l) => l.includes(text)).length;
    try {
      expect((await ask()).done).toMatchObject({ kbCache: 'miss', messageId: expect.any(String) });

      await Promise.all([redisProxy.stop(), postgresProxy.stop()]);
      for (let i = 0; i < 3; i++) {
        const { tokens, done } = await ask();
        expect(tokens).toHaveLength(FAST.llmTokens);
        expect(done).toMatchObject({ kbCache: 'miss', messageId: null });
      }
      await waitFor(() => count('redis unreachable') > 0);
      expect(count('redis unreachable')).toBe(1);
      expect(count('postgres unreachable')).toBe(1);

      await redisProxy.restart();
      await waitFor(() => count('redis reachable again') === 1);
      expect((await ask()).done).toMatchObject({ kbCache: 'hit' });
    } finally {
      await flaky.close();
      await Promise.all([redisProxy.stop(), postgresProxy.stop()]);
    }
  });

  it('exits cleanly on SIGTERM while a stream is open', async () => {
    const server = runNode([path.join(EXAMPLE, 'server.js')], { ...FAST_ENV, PORT: '0', LLM_TOKENS: '500', LLM_TOKEN_INTERVAL_MS: '20' });
    const port = await new Promise<string>((resolve, reject) => {
      server.child.stdout.on('data', () => {
        const match = /listening on http:\/\/localhost:(\d+)/.exec(server.output());
        if (match) resolve(match[1]!);
      });
      server.exit.then(() => reject(new Error(`server exited early:\n${server.output()}`)));
    });
    const res = await fetch(`http://127.0.0.1:${port}/api/chat/stream`, postJson({ message: 'Long answer please' }));
    const body = res.text();
    await sleep(100);

    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    expect(parseSse(await body).some((e) => e.event === 'done')).toBe(false); // ended early, but cleanly
    expect(server.output()).toContain('SIGTERM received');
  });
});

describe('sample chatbot: traffic driver and run.js', () => {
  it('drives bounded, mixed traffic and summarises it', async () => {
    const summary = await traffic.driveTraffic({
      baseUrl: base,
      rps: 60,
      durationMs: 1200,
      concurrency: 3,
      audioRatio: 0.5,
      abortRatio: 0.3,
      invalidRatio: 0.1,
      questions: [`First traffic question ${RUN}?`, `Second traffic question ${RUN}?`],
      conversationPrefix: conversation('traffic'),
      requestTimeoutMs: 15_000,
    });
    const { outcomes, ttftMs } = summary;
    expect(outcomes.timeout, 'no answer may hang').toBe(0);
    expect(summary.maxInFlight).toBeLessThanOrEqual(3);
    expect(outcomes.dropped).toBeGreaterThan(0); // 60 req/s is more than 3 in flight can carry
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.network_error + outcomes.http_error + outcomes.stream_failed).toBe(0);
    expect(summary.requests).toBe(Object.values(outcomes).reduce((a, b) => a + b, 0) - outcomes.dropped);
    expect(summary.kbCache.hit).toBeGreaterThan(0);
    expect(ttftMs.count).toBeGreaterThan(0);
    expect(ttftMs.p50!).toBeLessThanOrEqual(ttftMs.p90!);
    expect(ttftMs.p90!).toBeLessThanOrEqual(ttftMs.p99!);
  });

  it('cancels requests in flight when its signal aborts', async () => {
    const slow = await chatbot.start({ ...FAST, llmFirstTokenMs: 2000, llmFirstTokenJitterMs: 0, logger: captureLogger() });
    try {
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 300);
      const summary = await traffic.driveTraffic({
        baseUrl: `http://127.0.0.1:${slow.port}`,
        rps: 50,
        durationMs: 0,
        concurrency: 4,
        invalidRatio: 0,
        signal: stop.signal,
        conversationPrefix: conversation('cancel'),
      });
      expect(summary.outcomes.cancelled).toBe(4);
    } finally {
      await slow.close();
    }
  });

  it('rejects bad driver options', async () => {
    await expect(traffic.driveTraffic({ baseUrl: base, concurrency: 0 })).rejects.toThrow(/concurrency/);
    await expect(traffic.driveTraffic({ baseUrl: base, abortRatio: 2 })).rejects.toThrow(/abortRatio/);
    await expect(traffic.driveTraffic({ baseUrl: 'not a url' })).rejects.toThrow(/baseUrl/);
  });

  it('run.js preloads the register module, drives traffic for --duration and exits 0', async () => {
    const port = String(await freePort());
    const run = runNode([path.join(EXAMPLE, 'run.js'), '--duration', '1', '--rps', '10'], {
      ...FAST_ENV,
      PORT: port,
      CHATPULSE_REGISTER: path.join(HERE, 'fixtures', 'noop-register.cjs'),
      // Keeps this smoke test's traffic out of the shared conversations table.
      DATABASE_URL: CLOSED_PORT_POSTGRES,
      // Unset (empty): the sample names itself, so metrics and health report the same service.
      OTEL_SERVICE_NAME: '',
    });
    expect(await run.exit, run.output()).toBe(0);
    const output = run.output();
    expect(output).toContain('noop register preloaded (OTEL_SERVICE_NAME=chatbot)');
    expect(output).toContain(`http://127.0.0.1:${port}`);
    expect(output).toContain('http://127.0.0.1:9464/metrics');
    expect(output).toContain('http://127.0.0.1:9465/api/v1/health');
    expect(output).toMatch(/run: traffic: \d+ requests \(.*ok \d+/);
    expect(output).toContain('SIGTERM received');
  });

  it('run.js explains how to fix an unresolvable register module', async () => {
    const run = runNode([path.join(EXAMPLE, 'run.js')], { CHATPULSE_REGISTER: './no/such/register.js' });
    expect(await run.exit).toBe(1);
    expect(run.output()).toContain("cannot resolve the Chatpulse register module './no/such/register.js'");
    expect(run.output()).toContain('npm run build');
  });
});
