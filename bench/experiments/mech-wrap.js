'use strict';
/**
 * Diagnostic preload, no Chatpulse: wraps ServerResponse.prototype.writeHead/write/end the way
 * hooks/http.ts does (original first via apply(this, arguments), then a symbol-keyed property read),
 * with nothing else behind the wrappers.
 */
const { ServerResponse } = require('node:http');
const kState = Symbol.for('bench.state');
const proto = ServerResponse.prototype;
const origWriteHead = proto.writeHead;
const origWrite = proto.write;
const origEnd = proto.end;
proto.writeHead = function writeHead() {
  const ret = origWriteHead.apply(this, arguments);
  const st = this[kState];
  if (st !== undefined) st.n++;
  return ret;
};
proto.write = function write(chunk, encoding) {
  const ret = origWrite.apply(this, arguments);
  const st = this[kState];
  if (st !== undefined) st.n++;
  return ret;
};
proto.end = function end(chunk, encoding) {
  const ret = origEnd.apply(this, arguments);
  const st = this[kState];
  if (st !== undefined) st.n++;
  return ret;
};
