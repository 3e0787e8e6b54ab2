'use strict';
/**
 * Diagnostic preload, no Chatpulse: the hook points alone. Subscribes to the two HTTP diagnostics
 * channels with empty handlers and wraps ServerResponse.prototype.writeHead/write/end with
 * pass-through functions: no state, no clock. Against floor-hook.js it separates what hooking costs
 * from what keeping per-request state and timing costs.
 */
const dc = require('node:diagnostics_channel');
const { ServerResponse } = require('node:http');

let started = 0;
let finished = 0;
dc.subscribe('http.server.request.start', () => {
  started++;
});
dc.subscribe('http.server.response.finish', () => {
  finished++;
});

const proto = ServerResponse.prototype;
const origWriteHead = proto.writeHead;
const origWrite = proto.write;
const origEnd = proto.end;
proto.writeHead = function writeHead() {
  return origWriteHead.apply(this, arguments);
};
proto.write = function write() {
  return origWrite.apply(this, arguments);
};
proto.end = function end() {
  return origEnd.apply(this, arguments);
};
