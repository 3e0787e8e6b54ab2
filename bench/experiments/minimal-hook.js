'use strict';
/**
 * Diagnostic preload for bench/toggle.js, no Chatpulse: about the least per-request work that still
 * measures time to first token, first audio and duration (request state, content type, one
 * indexOf per write, results into a typed array). MINIMAL_CLOCK picks the clock read four times per
 * request: `perf` (performance.now through a cached binding, as Chatpulse), `global` (the global
 * `performance` accessor), `date` (Date.now) or `none` (no clock: the floor without it).
 * Switched off while globalThis.__chatpulseBenchOff is true.
 */
const dc = require('node:diagnostics_channel');
const { ServerResponse, OutgoingMessage } = require('node:http');
const { performance: perf } = require('node:perf_hooks');

const CLOCKS = { perf: () => perf.now(), global: () => performance.now(), date: () => Date.now(), none: () => 0 };
const clock = CLOCKS[process.env.MINIMAL_CLOCK || 'perf'];
if (clock === undefined) throw new Error(`MINIMAL_CLOCK must be one of ${Object.keys(CLOCKS).join(', ')}`);

const k = Symbol('minimal');
const getHeader = OutgoingMessage.prototype.getHeader;
const proto = ServerResponse.prototype;
const origWriteHead = proto.writeHead;
const origWrite = proto.write;
const origEnd = proto.end;
const results = new Float64Array(4096);
let at = 0;

class State {
  constructor(t0) {
    this.t0 = t0;
    this.sse = false;
    this.classified = false;
    this.token = -1;
    this.audio = -1;
  }
}

dc.subscribe('http.server.request.start', (m) => {
  if (globalThis.__chatpulseBenchOff === true) return;
  m.response[k] = new State(clock());
});
dc.subscribe('http.server.response.finish', (m) => {
  const st = m.response[k];
  if (st === undefined) return;
  results[at] = clock() - st.t0;
  results[at + 1] = st.token;
  results[at + 2] = st.audio;
  at = (at + 4) & 4095;
});

function observe(st, chunk) {
  if (st.token === -1) {
    if (chunk.indexOf('data') !== -1) st.token = clock() - st.t0;
  } else if (st.audio === -1 && chunk.indexOf('event: audio') !== -1) st.audio = clock() - st.t0;
}

proto.writeHead = function writeHead() {
  const ret = origWriteHead.apply(this, arguments);
  const st = this[k];
  if (st !== undefined && !st.classified) {
    st.classified = true;
    st.sse = getHeader.call(this, 'content-type') === 'text/event-stream';
  }
  return ret;
};
proto.write = function write(chunk) {
  const ret = origWrite.apply(this, arguments);
  const st = this[k];
  if (st !== undefined && st.sse && typeof chunk === 'string') observe(st, chunk);
  return ret;
};
proto.end = function end(chunk) {
  const ret = origEnd.apply(this, arguments);
  const st = this[k];
  if (st !== undefined && st.sse && typeof chunk === 'string') observe(st, chunk);
  return ret;
};
