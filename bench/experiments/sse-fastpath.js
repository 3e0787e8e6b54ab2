'use strict';
/**
 * Prototype of a parser fast path, to measure what it would save (the fix belongs in
 * instrumentation/streams/sse-parser.ts; this only wraps the built parser):
 *
 * When the parser sits at an event boundary (no partial line, no pending `event:` type or data) and
 * the chunk (a string, the usual case) has no CR, no line starting with "e" (so no `event:` field),
 * and ends on a blank line, then every event in it is a plain data event: it is a token unless its
 * data is exactly "[DONE]", and the parser state after it is the initial one. Such a chunk needs
 * neither the line regex nor any string building. Anything else takes the full parser.
 *   node --require ./bench/experiments/sse-fastpath.js bench/sse-server.js
 */
const path = require('node:path');

// throughput.js runs a private copy of dist/ (CHATPULSE_BENCH_DIST); standalone, the repository's.
const DIST = process.env.CHATPULSE_BENCH_DIST ?? path.join(__dirname, '..', '..', 'dist');
require(path.join(DIST, 'instrumentation', 'register.js'));
const { SseParser, SIGNAL_TOKEN } = require(path.join(DIST, 'instrumentation', 'streams', 'sse-parser.js'));

const fullFeed = SseParser.prototype.feed;

function plainDataEvents(c) {
  const n = c.length;
  if (n < 2 || c.charCodeAt(n - 1) !== 10 || c.charCodeAt(n - 2) !== 10 || c.charCodeAt(0) === 101) return false;
  for (let i = c.indexOf('\n'); i !== -1 && i + 1 < n; i = c.indexOf('\n', i + 1)) {
    if (c.charCodeAt(i + 1) === 101) return false;
  }
  return c.indexOf('\r') === -1;
}

SseParser.prototype.feed = function feed(chunk) {
  if (
    typeof chunk === 'string' &&
    this.line === '' &&
    !this.afterCR &&
    this.eventType === '' &&
    !this.hasData &&
    this.started !== false &&
    plainDataEvents(chunk)
  ) {
    // Token unless the only data is the OpenAI sentinel (one event "data: [DONE]\n\n").
    if (chunk.startsWith('data: [DONE]\n\n') && chunk.length === 14) return 0;
    if (chunk.startsWith('data:')) return SIGNAL_TOKEN;
  }
  return fullFeed.call(this, chunk);
};
