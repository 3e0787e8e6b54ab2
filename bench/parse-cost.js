'use strict';
/**
 * What reading a stream costs the hook: instructions per stream of the SSE parser and the wire
 * formats (instrumentation/streams), as the HTTP hook feeds them, counted by valgrind's callgrind.
 *
 *   npm run build && node bench/parse-cost.js [--format generic|openai|ai-sdk] [--streams 10000] [--dist DIR]
 *
 * Each stream is the throughput bench's (bench/sse-server.js): 10 token events in the format, one
 * 1.4 KB audio event, `event: done`, each event a string built when written and measured by
 * Buffer.byteLength first, as `res.write` does before the hook sees it (a concatenation, then
 * flattened: a parser measured on other strings ranks its string operations differently). The child parses `streams` and 3 × `streams` streams after the same warm-up; the
 * difference of the totals over 2 × `streams` is one stream, start-up and warm-up cancelled.
 * Building the strings is counted too, the same for every build: compare builds (`--dist DIR`, e.g.
 * an older checkout's dist/) rather than read one figure alone.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TOKENS = ['Hello', ',', ' how', ' can', ' I', ' help', ' you', ' today', '?', ' 😊'];
const B64 = Buffer.alloc(1000, 7).toString('base64');
const BASE = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini', system_fingerprint: 'fp_44709d6fcb' };
const EVENTS = {
  generic: (i) => `data: ${JSON.stringify({ token: TOKENS[i] })}\n\n`,
  openai: (i) => `data: ${JSON.stringify({ ...BASE, choices: [{ index: 0, delta: { content: TOKENS[i] }, logprobs: null, finish_reason: null }] })}\n\n`,
  'ai-sdk': (i) => `data: ${JSON.stringify({ type: 'text-delta', id: 't1', delta: TOKENS[i] })}\n\n`,
};

function child(dist, format, streams) {
  const { SseParser } = require(path.join(dist, 'instrumentation/streams/sse-parser.js'));
  const { resolveConfig } = require(path.join(dist, 'instrumentation/config/env.js'));
  let rules = resolveConfig({}).config.sse;
  try {
    rules = new (require(path.join(dist, 'instrumentation/streams/formats/rules.js')).StreamRules)(rules);
  } catch {
    // a build from before the wire formats: its parser takes the event names
  }
  const ev = EVENTS[format];
  let sink = 0;
  // As res.write does before the hook sees a chunk: Buffer.byteLength flattens the concatenation.
  const write = (p, chunk) => {
    sink += Buffer.byteLength(chunk);
    sink += p.feed(chunk);
  };
  const stream = () => {
    const p = new SseParser(rules);
    for (let i = 0; i < 10; i++) write(p, ev(i));
    write(p, `event: audio\ndata: ${JSON.stringify({ seq: 0, b64: B64 })}\n\n`);
    write(p, 'event: done\ndata: {"finish_reason":"stop"}\n\n');
  };
  for (let k = 0; k < 20000; k++) stream();
  for (let k = 0; k < streams; k++) stream();
  process.stdout.write(`${sink}\n`);
}

function total(dist, format, streams) {
  const out = path.join(os.tmpdir(), `parse-cost-${process.pid}-${streams}.cg`);
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, __filename, '--child', dist, format, String(streams)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`valgrind: ${r.stderr.slice(-1500)}`);
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out, { force: true });
  return Number(m[1]);
}

function main() {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? fallback : args[i + 1];
  };
  const format = opt('format', 'generic');
  if (!(format in EVENTS)) throw new Error('--format must be generic, openai or ai-sdk');
  const streams = Number(opt('streams', 10000));
  const dist = path.resolve(opt('dist', path.join(__dirname, '..', 'dist')));
  const perStream = (total(dist, format, 3 * streams) - total(dist, format, streams)) / (2 * streams);
  console.log(`${format}: ${Math.round(perStream).toLocaleString('en-US')} instructions per stream (${dist})`);
}

if (process.argv[2] === '--child') child(process.argv[3], process.argv[4], Number(process.argv[5]));
else main();
