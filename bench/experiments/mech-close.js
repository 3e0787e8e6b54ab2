'use strict';
/**
 * Diagnostic preload, no Chatpulse: subscribes to `http.server.request.start` and adds a 'close'
 * listener to each response, as hooks/http.ts does (without storing any state on the response).
 */
const dc = require('node:diagnostics_channel');
let closed = 0;
function onClose() {
  closed++;
}
dc.subscribe('http.server.request.start', (m) => {
  m.response.on('close', onClose);
});
