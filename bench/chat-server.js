'use strict';
/**
 * A whole chatbot request, shaped like the sample backend (examples/chatbot), for what the hooks
 * cost together: the stream-only bench/sse-server.js leaves the ioredis and pg hooks idle.
 *
 *   GET /api/chat/stream  1. knowledge-base lookup in Redis (ioredis GET `kb:<question>`; 4 in 5 hit)
 *                         2. the conversation's last messages from Postgres (pool.query SELECT)
 *                         3. the user's message into Postgres (pool.query INSERT)
 *                         4. SSE: headers, 20 `data: {"token":…}` events, one per event-loop turn
 *                         5. TTS cache lookup in Redis (GET `tts:<sentence>`; 1 in 2 hits)
 *                         6. one `event: audio` chunk, `event: done`, end
 *   GET /api/health       plain JSON
 *
 * Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and Postgres (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres). Each process writes its own table
 * (bench_messages_<pid>, dropped on exit, trimmed as it goes) and its own key space, so servers
 * measured side by side never contend on rows or keys. Prints `ready <port>`; exits on SIGTERM
 * printing `cpu <user µs> <system µs>`, as bench/sse-server.js.
 */
const express = require('express');
const Redis = require('ioredis');
const { Pool } = require('pg');

const TOKENS = 'Hello , how can I help you today ? Our plans start at ten euros monthly and include support .'.split(' ').map((t, i) => (i === 0 ? t : ` ${t}`));
const AUDIO_B64 = Buffer.alloc(1000, 7).toString('base64');
const QUESTIONS = Array.from({ length: 50 }, (_, i) => `question-${i}`);
const TABLE = `bench_messages_${process.pid}`;
// A key space per process through ioredis' keyPrefix, which the hook strips: keys read as `kb:…`
// and `tts:…`, the default CHATPULSE_CACHE_PREFIXES, as in the sample backend.
const NS = `bench:${process.pid}:`;

const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { keyPrefix: NS, maxRetriesPerRequest: 1 });
// The application_name lets bench/throughput.js find this server's Postgres backends and count
// their CPU as the request's own work, not as other load on the machine.
const pool = new Pool({ connectionString: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres', max: 4, application_name: 'chatpulse-bench-chat' });

async function setUp() {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id bigserial PRIMARY KEY, conversation_id int NOT NULL, role text NOT NULL, content text NOT NULL)`);
  await pool.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_conv ON ${TABLE} (conversation_id, id)`);
  // 4 in 5 questions have a cached context; 1 in 2 sentences a cached clip.
  const pipe = redis.pipeline();
  QUESTIONS.forEach((q, i) => i % 5 !== 0 && pipe.set(`kb:${q}`, `context for ${q}`, 'EX', 3600));
  for (let i = 0; i < 10; i += 2) pipe.set(`tts:sentence-${i}`, AUDIO_B64, 'EX', 3600);
  await pipe.exec();
}

let seq = 0;
const app = express();
app.disable('x-powered-by');

app.get('/api/chat/stream', async (req, res, next) => {
  try {
    const n = seq++;
    const question = QUESTIONS[n % QUESTIONS.length];
    const conversation = n % 100;
    const context = await redis.get(`kb:${question}`);
    if (context === null) await redis.set(`kb:${question}`, `context for ${question}`, 'EX', 3600);
    const history = await pool.query(`SELECT role, content FROM ${TABLE} WHERE conversation_id = $1 ORDER BY id DESC LIMIT 10`, [conversation]);
    await pool.query(`INSERT INTO ${TABLE} (conversation_id, role, content) VALUES ($1, $2, $3)`, [conversation, 'user', question]);
    if (n % 1000 === 999) pool.query(`DELETE FROM ${TABLE} WHERE id < (SELECT max(id) - 2000 FROM ${TABLE})`).catch(() => undefined);

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.flushHeaders();
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    let i = 0;
    const next = async () => {
      if (closed) return;
      if (i < TOKENS.length) {
        res.write(`data: ${JSON.stringify({ token: TOKENS[i++], history: i === 1 ? history.rowCount : undefined })}\n\n`);
        setImmediate(next);
        return;
      }
      const clip = await redis.get(`tts:sentence-${n % 10}`);
      if (closed) return;
      res.write(`event: audio\ndata: ${JSON.stringify({ seq: 0, mime: 'audio/ogg', cached: clip !== null, b64: AUDIO_B64 })}\n\n`);
      res.write('event: done\ndata: {"finish_reason":"stop"}\n\n');
      res.end();
    };
    next();
  } catch (err) {
    next(err);
  }
});

app.get('/api/health', (_req, res) => res.json({ status: 'ok' }));

let server;
setUp().then(
  () => {
    server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => process.stdout.write(`ready ${server.address().port}\n`));
    server.keepAliveTimeout = 60_000;
  },
  (err) => {
    process.stderr.write(`chat-server: set-up failed: ${err.message}\n`);
    process.exit(1);
  },
);

let exiting = false;
async function exit() {
  if (exiting) return;
  exiting = true;
  const cpu = process.cpuUsage();
  setTimeout(() => process.exit(0), 1500).unref();
  // Clean up after reading the CPU: the clean-up is not part of the measurement.
  try {
    await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
    // In a script: its ARGV takes no keyPrefix, and the names KEYS returns are already full.
    await redis.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end", 0, `${NS}*`);
  } catch {
    // best effort
  }
  process.stdout.write(`cpu ${cpu.user} ${cpu.system}\n`, () => process.exit(0));
}
process.on('SIGTERM', exit);
process.on('SIGINT', exit);
if (process.env.BENCH_WATCH_STDIN === '1') {
  process.stdin.on('end', exit);
  process.stdin.on('error', exit);
  process.stdin.resume();
}
