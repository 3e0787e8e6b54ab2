'use strict';
/**
 * Diagnostic preload, not a fix: starts Chatpulse exactly as `--require chatpulse/register` does, then
 * replaces SseParser.prototype.feed with a stub that reports a token for every chunk. The difference
 * between this variant and `chatpulse` is what SSE parsing costs inside the real server.
 *   node --require ./bench/experiments/sse-noparse.js bench/sse-server.js
 */
const path = require('node:path');

// throughput.js runs a private copy of dist/ (CHATPULSE_BENCH_DIST); standalone, the repository's.
const DIST = process.env.CHATPULSE_BENCH_DIST ?? path.join(__dirname, '..', '..', 'dist');
require(path.join(DIST, 'instrumentation', 'register.js'));
const { SseParser, SIGNAL_TOKEN } = require(path.join(DIST, 'instrumentation', 'streams', 'sse-parser.js'));

SseParser.prototype.feed = function feedStub() {
  return SIGNAL_TOKEN;
};
