'use strict';
/**
 * Diagnostic preload, no Chatpulse: the floor of any zero-code hook that measures time to first
 * token and request duration on this endpoint. Per request: one state object in a WeakMap (as
 * hooks/http.ts), a clock read at request start, at the first `data` write and at finish, results
 * into a typed array. No route lookup, no content-type classification, no SSE parsing, no metric
 * series. What it costs is what the 0.97 target leaves for everything else.
 * Honours globalThis.__chatpulseBenchOff (bench/toggle.js --preload).
 */
const dc = require('node:diagnostics_channel');
const { ServerResponse } = require('node:http');
const { performance: perf } = require('node:perf_hooks');

const states = new WeakMap();
const proto = ServerResponse.prototype;
const origWriteHead = proto.writeHead;
const origWrite = proto.write;
const origEnd = proto.end;
const results = new Float64Array(4096);
let at = 0;

class State {
  constructor(t0) {
    this.t0 = t0;
    this.token = -1;
  }
}

function observe(st, chunk) {
  if (st.token === -1 && typeof chunk === 'string' && chunk.startsWith('data')) st.token = perf.now() - st.t0;
}

dc.subscribe('http.server.request.start', (m) => {
  if (globalThis.__chatpulseBenchOff === true) return;
  states.set(m.response, new State(perf.now()));
});
dc.subscribe('http.server.response.finish', (m) => {
  const st = states.get(m.response);
  if (st === undefined) return;
  states.delete(m.response);
  results[at] = perf.now() - st.t0;
  results[at + 1] = st.token;
  at = (at + 2) & 4095;
});

proto.writeHead = function writeHead() {
  return origWriteHead.apply(this, arguments);
};
proto.write = function write(chunk) {
  const ret = origWrite.apply(this, arguments);
  const st = states.get(this);
  if (st !== undefined) observe(st, chunk);
  return ret;
};
proto.end = function end(chunk) {
  const ret = origEnd.apply(this, arguments);
  const st = states.get(this);
  if (st !== undefined) observe(st, chunk);
  return ret;
};
