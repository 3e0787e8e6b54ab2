'use strict';
/**
 * A typical streaming chatbot backend, reduced to what the benchmarks need.
 *
 *   GET /api/chat/stream  text/event-stream: headers flushed at once, 10 `data: {"token":…}` events
 *                         (BENCH_SSE_FORMAT=openai|ai-sdk: in that wire format, its control events included)
 *                         written over two event-loop turns (BENCH_SSE_SHAPE=per-token: one per
 *                         turn), one `event: audio` chunk, `event: done`, end. Each event is
 *                         serialized when written, as the sample backend and real servers do.
 *   GET /api/health       a plain JSON response.
 *
 * Listens on PORT (0 = any free port), prints `ready <port>` once listening, and exits on SIGTERM
 * after printing `cpu <userMicros> <systemMicros>` (process.cpuUsage()) on stdout.
 * With BENCH_WATCH_STDIN=1 it also exits when its stdin closes, so a benchmark parent that dies
 * without cleaning up (kill -9) leaves no orphan server behind.
 */
const express = require('express');

const TOKENS = ['Hello', ',', ' how', ' can', ' I', ' help', ' you', ' today', '?', ' 😊'];
// ~1.3 KB of base64, about what a 20 ms Opus frame batch of TTS audio looks like on the wire.
const AUDIO_B64 = Buffer.alloc(1000, 7).toString('base64');
const DONE_EVENT = 'event: done\ndata: {"finish_reason":"stop"}\n\n';

// Events are built per write, not pre-built once: a pre-built template string stays a V8 cons
// string or becomes a flat one depending on when the GC first saw it, which switches Node's
// Buffer.byteLength between its fast and slow path for the whole run (measured: ~5,000
// instructions per request either way, decided by start-up allocation, not by the hook).
const tokenEvent = (i) => `data: ${JSON.stringify({ token: TOKENS[i] })}\n\n`;
const audioEvent = () => `event: audio\ndata: ${JSON.stringify({ seq: 0, mime: 'audio/ogg', b64: AUDIO_B64 })}\n\n`;

// BENCH_SSE_SHAPE=per-token: one event per event-loop turn; default `burst`: two turns.
const PER_TOKEN = process.env.BENCH_SSE_SHAPE === 'per-token';

/**
 * BENCH_SSE_FORMAT: the wire format of the token events. `generic` (default) as above; `openai`:
 * OpenAI chat.completion.chunk events, with the role-only chunk before the first token and the
 * finish and usage chunks and `[DONE]` after the last; `ai-sdk`: the AI SDK UI message stream
 * (its header, `start`, `start-step`, `text-start` parts first, `text-end`, `finish-step`,
 * `finish` and `[DONE]` last). Each event serialized when written, as above.
 */
const FORMAT = process.env.BENCH_SSE_FORMAT || 'generic';
const OPENAI_BASE = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini', system_fingerprint: 'fp_44709d6fcb' };
const openaiChunk = (delta, finish = null) => `data: ${JSON.stringify({ ...OPENAI_BASE, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const uiPart = (part) => `data: ${JSON.stringify(part)}\n\n`;
const FORMATS = {
  generic: { headers: {}, before: [], token: tokenEvent, after: [] },
  openai: {
    headers: {},
    before: [() => openaiChunk({ role: 'assistant', content: '' })],
    token: (i) => openaiChunk({ content: TOKENS[i] }),
    after: [
      () => openaiChunk({}, 'stop'),
      () => `data: ${JSON.stringify({ ...OPENAI_BASE, choices: [], usage: { prompt_tokens: 11, completion_tokens: TOKENS.length, total_tokens: 11 + TOKENS.length } })}\n\n`,
      () => 'data: [DONE]\n\n',
    ],
  },
  'ai-sdk': {
    headers: { 'x-vercel-ai-ui-message-stream': 'v1', 'x-accel-buffering': 'no' },
    before: [() => uiPart({ type: 'start' }), () => uiPart({ type: 'start-step' }), () => uiPart({ type: 'text-start', id: 't1' })],
    token: (i) => uiPart({ type: 'text-delta', id: 't1', delta: TOKENS[i] }),
    after: [() => uiPart({ type: 'text-end', id: 't1' }), () => uiPart({ type: 'finish-step' }), () => uiPart({ type: 'finish' }), () => 'data: [DONE]\n\n'],
  },
};
// `model`: each answer is a streamed chat completion the endpoint requests from a model server
// (BENCH_MODEL_URL, bench/model-server.js) through the official `openai` SDK and relays token by
// token, as a chatbot backend does; the GenAI hook times that call.
FORMATS.model = FORMATS.generic;
const WIRE = FORMATS[FORMAT];
if (WIRE === undefined) throw new Error(`BENCH_SSE_FORMAT must be one of ${Object.keys(FORMATS).join(', ')}`);

const app = express();
app.disable('x-powered-by');

if (FORMAT === 'model') {
  const OpenAI = require('openai');
  const client = new OpenAI({ baseURL: process.env.BENCH_MODEL_URL, apiKey: 'sk-bench', maxRetries: 0 });
  app.get('/api/chat/stream', async (req, res) => {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.flushHeaders();
    try {
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], stream: true });
      for await (const chunk of stream) {
        const token = chunk.choices[0]?.delta?.content;
        if (token) res.write(`data: ${JSON.stringify({ token })}\n\n`);
      }
      res.write(audioEvent());
      res.write(DONE_EVENT);
    } catch {
      res.write('event: error\ndata: {"type":"llm"}\n\n');
    }
    res.end();
  });
}

app.get('/api/chat/stream', (req, res) => {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  for (const [k, v] of Object.entries(WIRE.headers)) res.setHeader(k, v);
  res.flushHeaders();
  for (const ev of WIRE.before) res.write(ev());
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  if (PER_TOKEN) {
    // Each event in its own event-loop turn, as tokens arriving one by one from an LLM.
    let i = 0;
    const next = () => {
      if (closed) return;
      if (i < TOKENS.length) res.write(WIRE.token(i++));
      else if (i++ === TOKENS.length) res.write(audioEvent());
      else {
        for (const ev of WIRE.after) res.write(ev());
        res.write(DONE_EVENT);
        res.end();
        return;
      }
      setImmediate(next);
    };
    next();
    return;
  }
  // First half of the answer in this turn, the rest on the next one, as tokens arriving from an LLM.
  for (let i = 0; i < 5; i++) res.write(WIRE.token(i));
  setImmediate(() => {
    if (closed) return;
    for (let i = 5; i < TOKENS.length; i++) res.write(WIRE.token(i));
    res.write(audioEvent());
    for (const ev of WIRE.after) res.write(ev());
    res.write(DONE_EVENT);
    res.end();
  });
});

app.get('/api/health', (req, res) => {
  res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
server.keepAliveTimeout = 60_000;

function exit() {
  const cpu = process.cpuUsage();
  process.stdout.write(`cpu ${cpu.user} ${cpu.system}\n`, () => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
if (process.env.BENCH_WATCH_STDIN === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
