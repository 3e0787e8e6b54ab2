'use strict';
/**
 * What reading a stream costs the hook: instructions per stream of the SSE parser and the wire
 * formats (instrumentation/streams), with the clock reads the HTTP hook makes for the signals they
 * return, as the hook feeds them; counted by valgrind's callgrind, or timed with --time.
 *
 *   npm run build && node bench/parse-cost.js [--format generic|openai|ai-sdk] [--streams 10000] [--dist DIR]
 *   npm run build && node bench/parse-cost.js --time --compare DIR [--rounds 12] [--streams 200000] [--format generic]
 *
 * --time: time per stream of this build and the build in DIR (e.g. an older checkout's dist/),
 * both loaded in one fresh process per round, pinned (taskset, CPU 1 when there are two), each
 * warmed with 20,000 streams, then timed in alternating slices of 1,000 streams (a drift of the
 * machine's speed falls on both alike); prints each build's median and the median of the
 * round-by-round differences.
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
const { median } = require('./lib/stats');

const TOKENS = ['Hello', ',', ' how', ' can', ' I', ' help', ' you', ' today', '?', ' 😊'];
const B64 = Buffer.alloc(1000, 7).toString('base64');
const BASE = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini', system_fingerprint: 'fp_44709d6fcb' };
const EVENTS = {
  generic: (i) => `data: ${JSON.stringify({ token: TOKENS[i] })}\n\n`,
  openai: (i) => `data: ${JSON.stringify({ ...BASE, choices: [{ index: 0, delta: { content: TOKENS[i] }, logprobs: null, finish_reason: null }] })}\n\n`,
  'ai-sdk': (i) => `data: ${JSON.stringify({ type: 'text-delta', id: 't1', delta: TOKENS[i] })}\n\n`,
};

/** One stream of `format` through the parser of the build in `dist`, as the hook feeds it. */
function streamOf(dist, format) {
  const { SseParser } = require(path.join(dist, 'instrumentation/streams/sse-parser.js'));
  const { resolveConfig } = require(path.join(dist, 'instrumentation/config/env.js'));
  let rules = resolveConfig({}).config.sse;
  try {
    rules = new (require(path.join(dist, 'instrumentation/streams/formats/rules.js')).StreamRules)(rules);
  } catch {
    // a build from before the wire formats: its parser takes the event names
  }
  const clock = require(path.join(dist, 'instrumentation/clock.js')).now;
  // A build from before the formats takes which first signals the stream has (its hook passed them).
  const { SIGNAL_TOKEN, SIGNAL_AUDIO } = require(path.join(dist, 'instrumentation/streams/sse-parser.js'));
  const ev = EVENTS[format];
  let sink = 0;
  let token = false;
  let audio = false;
  // As res.write does before the hook sees a chunk: Buffer.byteLength flattens the concatenation.
  // The hook reads the clock when a write completed a signal (every build since the first).
  const signalled = (signals) => {
    sink += clock() > 0 ? signals : 0;
    if (signals & SIGNAL_TOKEN) token = true;
    if (signals & SIGNAL_AUDIO) audio = true;
  };
  const write = (p, chunk) => {
    sink += Buffer.byteLength(chunk);
    const signals = p.feed(chunk, token, audio);
    if (signals !== 0) signalled(signals);
  };
  const stream = () => {
    token = false;
    audio = false;
    const p = new SseParser(rules);
    for (let i = 0; i < 10; i++) write(p, ev(i));
    write(p, `event: audio\ndata: ${JSON.stringify({ seq: 0, b64: B64 })}\n\n`);
    write(p, 'event: done\ndata: {"finish_reason":"stop"}\n\n');
  };
  return { stream, sink: () => sink };
}

/** Under callgrind: 20,000 streams of warm-up, then `streams` more. */
function child(dist, format, streams) {
  const { stream, sink } = streamOf(dist, format);
  for (let k = 0; k < 20000; k++) stream();
  for (let k = 0; k < streams; k++) stream();
  process.stdout.write(`${sink()}\n`);
}

/**
 * --time, one round: every build loaded in this process, each warmed, then timed in alternating
 * slices of 1,000 streams, so a drift of the machine's speed falls on all of them alike.
 */
function timedChild(dists, format, streams) {
  const runs = dists.map((d) => streamOf(d, format).stream);
  for (const run of runs) for (let k = 0; k < 20000; k++) run();
  const ns = dists.map(() => 0n);
  const slice = 1000;
  let done = 0;
  for (; done < streams; done += slice) {
    for (let j = 0; j < runs.length; j++) {
      const i = (done / slice) % 2 === 0 ? j : runs.length - 1 - j;
      const t = process.hrtime.bigint();
      for (let k = 0; k < slice; k++) runs[i]();
      ns[i] += process.hrtime.bigint() - t;
    }
  }
  process.stdout.write(`${ns.map((x) => Number(x) / 1000 / done).join(' ')}\n`);
}

/** --time: µs per stream of each build, one fresh pinned process per round holding every build. */
function timed(dists, format, streams, rounds) {
  const pin = os.cpus().length > 1 ? ['taskset', '-c', '1'] : [];
  const per = dists.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const cmd = [...pin, process.execPath, __filename, '--timed-child', format, String(streams), ...dists];
    const res = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`child: ${res.stderr.slice(-1500)}`);
    res.stdout.trim().split(' ').forEach((x, i) => per[i].push(Number(x)));
  }
  dists.forEach((d, i) => console.log(`${format}: ${median(per[i]).toFixed(3)} µs per stream (median of ${rounds}; ${Math.min(...per[i]).toFixed(3)} – ${Math.max(...per[i]).toFixed(3)}) ${d}`));
  if (dists.length === 2) {
    const diffs = per[0].map((x, r) => x - per[1][r]);
    console.log(`difference, this build − the other: ${median(diffs) >= 0 ? '+' : ''}${median(diffs).toFixed(3)} µs per stream (median of rounds; ${Math.min(...diffs).toFixed(3)} – ${Math.max(...diffs).toFixed(3)})`);
  }
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
  const valued = new Set(['--format', '--streams', '--dist', '--compare', '--rounds']);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--time') continue;
    if (!valued.has(args[i])) throw new Error(`unknown option ${args[i]} (options: --format, --streams, --dist, --time, --compare, --rounds)`);
    if (args[++i] === undefined) throw new Error(`${args[i - 1]} needs a value`);
  }
  const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? fallback : args[i + 1];
  };
  const format = opt('format', 'generic');
  if (!(format in EVENTS)) throw new Error('--format must be generic, openai or ai-sdk');
  const streams = Number(opt('streams', 10000));
  const dist = path.resolve(opt('dist', path.join(__dirname, '..', 'dist')));
  if (args.includes('--time')) {
    const compare = opt('compare', undefined);
    const rounds = Number(opt('rounds', 12));
    const timedStreams = Number(opt('streams', 200000));
    if (!(Number.isInteger(rounds) && rounds > 0) || !(Number.isInteger(timedStreams) && timedStreams >= 1000)) throw new Error('--rounds must be a positive integer and --streams an integer of at least 1000');
    timed(compare === undefined ? [dist] : [dist, path.resolve(compare)], format, timedStreams, rounds);
    return;
  }
  const perStream = (total(dist, format, 3 * streams) - total(dist, format, streams)) / (2 * streams);
  console.log(`${format}: ${Math.round(perStream).toLocaleString('en-US')} instructions per stream (${dist})`);
}

if (process.argv[2] === '--child') child(process.argv[3], process.argv[4], Number(process.argv[5]));
else if (process.argv[2] === '--timed-child') timedChild(process.argv.slice(5), process.argv[3], Number(process.argv[4]));
else main();
