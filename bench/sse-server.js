'use strict';
/**
 * A typical streaming chatbot backend, reduced to what the benchmarks need.
 *
 *   GET /api/chat/stream  text/event-stream: headers flushed at once, 10 `data: {"token":…}` events
 *                         written over two event-loop turns, one `event: audio` chunk, `event: done`,
 *                         end.
 *   GET /api/health       a plain JSON response.
 *
 * Listens on PORT (0 = any free port), prints `ready <port>` once listening, and exits on SIGTERM
 * after printing `cpu <userMicros> <systemMicros>` (process.cpuUsage()) on stdout.
 * With BENCH_WATCH_STDIN=1 it also exits when its stdin closes, so a benchmark parent that dies
 * without cleaning up (kill -9) leaves no orphan server behind.
 */
const express = require('express');

const TOKENS = ['Hello', ',', ' how', ' can', ' I', ' help', ' you', ' today', '?', ' 😊'];
const TOKEN_EVENTS = TOKENS.map((t) => `data: ${JSON.stringify({ token: t })}\n\n`);
// ~1.3 KB of base64, about what a 20 ms Opus frame batch of TTS audio looks like on the wire.
const AUDIO_EVENT = `event: audio\ndata: ${JSON.stringify({ seq: 0, mime: 'audio/ogg', b64: Buffer.alloc(1000, 7).toString('base64') })}\n\n`;
const DONE_EVENT = 'event: done\ndata: {"finish_reason":"stop"}\n\n';

const app = express();
app.disable('x-powered-by');

app.get('/api/chat/stream', (req, res) => {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Connection', 'keep-alive');
  res.flushHeaders();
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  // First half of the answer in this turn, the rest on the next one, as tokens arriving from an LLM.
  for (let i = 0; i < 5; i++) res.write(TOKEN_EVENTS[i]);
  setImmediate(() => {
    if (closed) return;
    for (let i = 5; i < TOKEN_EVENTS.length; i++) res.write(TOKEN_EVENTS[i]);
    res.write(AUDIO_EVENT);
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
