'use strict';
/**
 * Diagnostic, not a fix: copies the build into a temporary directory with one part of the hook's
 * per-request work cut out, and prints the copy's dist/ for `bench/toggle.js --dist`:
 *
 *   noroute   the route template is a constant (no read of req.route / req.baseUrl)
 *   norecord  the recorder's per-request methods return at once (no series lookups, no histograms)
 *   noparse   SseParser.feed reports the first write as the first token and nothing after it
 *
 *   npm run build && node bench/toggle.js --dist "$(node bench/experiments/ablated-build.js norecord)"
 *   node bench/experiments/ablated-build.js noroute,norecord,noparse   # several cuts in one copy
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const RECORDER_METHODS = [
  'requestStarted(method) {',
  'requestFinished(method, route, status, seconds) {',
  'streamStarted(route) {',
  'firstToken(route, seconds) {',
  'firstAudio(route, seconds) {',
  'streamEnded(route, outcome, seconds) {',
];
const CUTS = {
  noroute: [['instrumentation/hooks/http.js', '    const r = req?.route;', "    return '/api/chat/stream';\n    const r = req?.route;"]],
  norecord: RECORDER_METHODS.map((m) => ['instrumentation/metrics/recorder.js', `    ${m}`, `    ${m} return;`]),
  noparse: [
    [
      'instrumentation/streams/sse-parser.js',
      '    feed(chunk, tokenSeen = false, audioSeen = false) {',
      '    feed(chunk, tokenSeen = false, audioSeen = false) {\n        return tokenSeen ? 0 : 1;',
    ],
  ],
};

const cuts = (process.argv[2] ?? '').split(',');
if (!cuts.every((c) => CUTS[c] !== undefined)) {
  console.error(`usage: node bench/experiments/ablated-build.js CUT[,CUT...] (CUT: ${Object.keys(CUTS).join('|')})`);
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `chatpulse-${cuts.join('-')}-`));
fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
for (const [file, from, to] of cuts.flatMap((c) => CUTS[c])) {
  const p = path.join(dir, 'dist', file);
  const src = fs.readFileSync(p, 'utf8');
  // The cut must land exactly once, or the experiment would measure something else.
  if (src.split(from).length !== 2) throw new Error(`${file}: expected "${from.trim()}" once; the build changed`);
  fs.writeFileSync(p, src.replace(from, to));
}
console.log(path.join(dir, 'dist'));
