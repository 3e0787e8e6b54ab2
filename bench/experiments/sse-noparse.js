'use strict';
/**
 * Diagnostic preload, not a fix: starts Chatpulse exactly as `--require chatpulse/register` does, then
 * replaces SseParser.prototype.feed with a stub that reports a token for every chunk. The difference
 * between this variant and `chatpulse` is what SSE parsing costs inside the real server.
 *   node --require ./bench/experiments/sse-noparse.js bench/sse-server.js
 */
require('../../dist/instrumentation/register.js');
const { SseParser, SIGNAL_TOKEN } = require('../../dist/instrumentation/streams/sse-parser.js');

SseParser.prototype.feed = function feedStub() {
  return SIGNAL_TOKEN;
};
