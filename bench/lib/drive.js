'use strict';
const http = require('node:http');

/**
 * Sends exactly `n` GET requests for `path` over `conns` keep-alive connections, one in flight per
 * connection, and resolves when every response has ended: a fixed amount of work, where
 * bench/loadgen.js loads for a fixed time.
 */
function drive(port, n, conns, path = '/api/chat/stream') {
  return new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
    let sent = 0;
    let done = 0;
    const one = () => {
      if (sent >= n) return;
      sent++;
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (++done === n) {
              agent.destroy();
              resolve();
            } else one();
          });
        })
        .on('error', reject);
    };
    for (let i = 0; i < conns; i++) one();
  });
}

module.exports = { drive };
