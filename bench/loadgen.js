'use strict';
/**
 * A closed-loop HTTP/1.1 keep-alive load generator, kept deliberately cheap so that on a 2-core
 * machine the server under test, not the generator, is the bottleneck: raw `net` sockets, one
 * pre-encoded GET per connection in flight, and a byte-level response framer (Content-Length and
 * chunked) that never copies or decodes the body.
 *
 * Run by bench/throughput.js through child_process.fork:
 *   node bench/loadgen.js --port P --path /api/chat/stream --connections 16 --warmup 2 --duration 5
 * Messages to the parent (IPC): {type:'measure-start', cpuSeconds} when the warm-up ends and
 * {type:'result', cpuSeconds, requests, total, errors, non2xx, seconds, rps, latency:{p50,p90,p99,max}} at the end.
 * Standalone (no IPC) it prints the result as JSON. It stops by itself after warm-up + duration,
 * and exits if its parent goes away.
 */
const net = require('node:net');

function parseArgs(argv) {
  const o = { host: '127.0.0.1', port: 0, path: '/api/chat/stream', connections: 16, warmup: 2, duration: 5 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[++i];
    if (k === 'host' || k === 'path') o[k] = v;
    else if (k in o) o[k] = Number(v);
    else throw new Error(`loadgen: unknown option --${k}`);
  }
  if (!(o.port > 0)) throw new Error('loadgen: --port is required');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const REQUEST = Buffer.from(
  `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nAccept: text/event-stream\r\nUser-Agent: chatpulse-bench\r\n\r\n`,
  'latin1',
);

const HEAD = 0; // reading the status line and headers
const CHUNK_SIZE = 1; // reading a chunk-size line
const CHUNK_DATA = 2; // skipping chunk data plus its CRLF
const TRAILER = 3; // reading trailer lines after the last chunk, until an empty one
const FIXED = 4; // skipping a Content-Length body

let measuring = false;
let stopped = false;
let requests = 0;
let total = 0; // completed responses, warm-up included
let errors = 0;
let non2xx = 0;
let latencies = new Float64Array(1 << 16);
let nLat = 0;

function recordLatency(ms) {
  if (nLat === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[nLat++] = ms;
}

class Connection {
  constructor() {
    this.state = HEAD;
    this.head = null; // header bytes seen so far (Buffer), only while state === HEAD
    this.remaining = 0; // CHUNK_DATA / FIXED: bytes still to skip
    this.size = 0; // CHUNK_SIZE: hex value so far
    this.inExt = false; // CHUNK_SIZE: past a ';' extension
    this.lineLen = 0; // TRAILER: length of the current line
    this.status = 0;
    this.sentAt = 0;
    this.socket = null;
    this.connect();
  }

  connect() {
    if (stopped) return;
    const s = net.connect({ host: opts.host, port: opts.port, noDelay: true });
    this.socket = s;
    this.state = HEAD;
    this.head = null;
    s.on('connect', () => this.send());
    s.on('data', (buf) => this.onData(buf));
    s.on('error', () => {});
    s.on('close', () => {
      if (stopped) return;
      // A connection lost mid-response is an error; the loop goes on on a new connection.
      if (measuring) errors++;
      setTimeout(() => this.connect(), 10);
    });
  }

  send() {
    if (stopped) return;
    this.state = HEAD;
    this.head = null;
    this.sentAt = performance.now();
    this.socket.write(REQUEST);
  }

  done() {
    total++;
    if (measuring) {
      requests++;
      if (this.status < 200 || this.status >= 300) non2xx++;
      recordLatency(performance.now() - this.sentAt);
    }
    this.send();
  }

  onData(buf) {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case HEAD: {
          const joined = this.head === null ? buf.subarray(i) : Buffer.concat([this.head, buf.subarray(i)]);
          const end = joined.indexOf('\r\n\r\n');
          if (end === -1) {
            this.head = Buffer.from(joined); // copy: `buf` may be reused
            return;
          }
          const consumedFromBuf = end + 4 - (this.head === null ? 0 : this.head.length);
          const text = joined.toString('latin1', 0, end);
          this.head = null;
          this.status = Number(text.slice(9, 12));
          const lower = text.toLowerCase();
          const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
          i += consumedFromBuf;
          if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
            this.state = CHUNK_SIZE;
            this.size = 0;
            this.inExt = false;
          } else if (cl !== null) {
            this.remaining = Number(cl[1]);
            this.state = FIXED;
            if (this.remaining === 0) return this.done();
          } else {
            // Close-delimited bodies are not keep-alive; this benchmark's server never sends them.
            errors++;
            this.socket.destroy();
            return;
          }
          break;
        }
        case CHUNK_SIZE: {
          const c = buf[i++];
          if (c === 10) {
            if (this.size === 0) {
              this.state = TRAILER;
              this.lineLen = 0;
            } else {
              this.remaining = this.size + 2;
              this.state = CHUNK_DATA;
            }
            this.size = 0;
            this.inExt = false;
          } else if (c === 59) this.inExt = true;
          else if (!this.inExt && c !== 13) {
            const d = c <= 57 ? c - 48 : (c | 32) - 87;
            this.size = this.size * 16 + d;
          }
          break;
        }
        case CHUNK_DATA:
        case FIXED: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) {
            if (this.state === FIXED) {
              if (i !== n) errors++; // nothing may follow a response we did not ask for
              return this.done();
            }
            this.state = CHUNK_SIZE;
          }
          break;
        }
        case TRAILER: {
          const c = buf[i++];
          if (c === 10) {
            if (this.lineLen === 0) {
              if (i !== n) errors++;
              return this.done();
            }
            this.lineLen = 0;
          } else if (c !== 13) this.lineLen++;
          break;
        }
      }
    }
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function send(msg) {
  if (process.send) process.send(msg);
  else if (msg.type === 'result') process.stdout.write(JSON.stringify(msg) + '\n');
}

const conns = [];
for (let c = 0; c < opts.connections; c++) conns.push(new Connection());

let startedAt = 0;
setTimeout(() => {
  measuring = true;
  startedAt = performance.now();
  send({ type: 'measure-start', cpuSeconds: cpuSeconds() });
  setTimeout(() => {
    const seconds = (performance.now() - startedAt) / 1000;
    measuring = false;
    stopped = true;
    for (const c of conns) c.socket?.destroy();
    const lat = latencies.subarray(0, nLat).sort();
    const result = {
      type: 'result',
      cpuSeconds: cpuSeconds(),
      requests,
      total,
      errors,
      non2xx,
      seconds,
      rps: requests / seconds,
      latencyMs: { p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: lat[nLat - 1] ?? 0 },
    };
    send(result);
    if (process.connected) process.disconnect();
  }, opts.duration * 1000);
}, opts.warmup * 1000);

// The parent went away (Ctrl-C, crash): stop at once.
process.on('disconnect', () => {
  if (!stopped) process.exit(0);
});
