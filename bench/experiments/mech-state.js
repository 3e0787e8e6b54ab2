'use strict';
/**
 * Diagnostic preload, no Chatpulse: reproduces one mechanism of the HTTP hook in isolation. Subscribes
 * to the `http.server.request.start` diagnostics channel and stores a small state object on each
 * response under a symbol, as hooks/http.ts does with RequestState.
 */
const dc = require('node:diagnostics_channel');
const kState = Symbol.for('bench.state');
class State {
  constructor(startedAt, method, socket) {
    this.kind = 0;
    this.classified = false;
    this.startedAt = startedAt;
    this.method = method;
    this.socket = socket;
  }
}
dc.subscribe('http.server.request.start', (m) => {
  m.response[kState] = new State(performance.now(), m.request.method, m.request.socket);
});
