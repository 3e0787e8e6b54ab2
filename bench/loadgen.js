'use strict';
/**
 * A closed-loop HTTP/1.1 keep-alive load generator, kept deliberately cheap so that on a 2-core
 * machine the server under test, not the generator, is the bottleneck: raw `net` sockets, one
 * pre-encoded GET per connection in flight, and a byte-level response framer (Content-Length and
 * chunked) that never copies or decodes the body.
 *
 * One target:   node bench/loadgen.js --ports P --path /api/chat/stream --connections 16 --warmup 2 --duration 5
 * Time-sliced:  node bench/loadgen.js --ports P1,P2,P3 --slice-ms 250 ...
 *   Several servers are loaded in turn, one at a time, in short slices (each cycle in a fresh random
 *   order), each with its own --connections keep-alive connections; --duration is the measured time
 *   per target. A request counts for the slice it was sent in. Slow drifts of the machine's speed
 *   (other VMs, other processes) then hit every target alike, and per-cycle ratios cancel them.
 *
 * Run by bench/throughput.js through child_process.fork. Messages to the parent (IPC):
 *   {type:'measure-start', cpuSeconds} when the warm-up ends, and
 *   {type:'result', cpuSeconds, targets:[{port, requests, total, errors, non2xx, seconds, rps,
 *     latencyMs:{p50,p90,p99,max}, slices:[{cycle, count, ms}]}]} at the end.
 * Standalone (no IPC) it prints the result as JSON. It stops by itself after warm-up + duration,
 * and exits if its parent goes away.
 */
const net = require('node:net');

function parseArgs(argv) {
  const o = { host: '127.0.0.1', ports: [], path: '/api/chat/stream', connections: 16, warmup: 2, duration: 5, sliceMs: 250 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[++i];
    if (k === 'host' || k === 'path') o[k] = v;
    else if (k === 'port' || k === 'ports') o.ports = v.split(',').map(Number);
    else if (k === 'slice-ms') o.sliceMs = Number(v);
    else if (k in o) o[k] = Number(v);
    else throw new Error(`loadgen: unknown option --${k}`);
  }
  if (o.ports.length === 0 || !o.ports.every((p) => p > 0)) throw new Error('loadgen: --ports is required');
  if (!(o.sliceMs >= 10)) throw new Error('loadgen: --slice-ms must be at least 10');
  return o;
}

const opts = parseArgs(process.argv.slice(2));

const HEAD = 0; // reading the status line and headers
const CHUNK_SIZE = 1; // reading a chunk-size line
const CHUNK_DATA = 2; // skipping chunk data plus its CRLF
const TRAILER = 3; // reading trailer lines after the last chunk, until an empty one
const FIXED = 4; // skipping a Content-Length body

let measuring = false;
let stopped = false;
let active = null; // the target being loaded
let sliceId = -1; // index into `slices` of the current measured slice, -1 outside measurement
const slices = []; // {target, cycle, count, ms}

class Target {
  constructor(port) {
    this.port = port;
    this.request = Buffer.from(
      `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${port}\r\nAccept: text/event-stream\r\nUser-Agent: chatpulse-bench\r\n\r\n`,
      'latin1',
    );
    this.requests = 0; // completed during measurement (sent in a measured slice)
    this.total = 0; // completed, warm-up included
    this.errors = 0;
    this.non2xx = 0;
    this.latencies = new Float64Array(1 << 15);
    this.nLat = 0;
    this.conns = [];
  }

  recordLatency(ms) {
    if (this.nLat === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.nLat++] = ms;
  }
}

class Connection {
  constructor(target) {
    this.target = target;
    this.state = HEAD;
    this.head = null; // header bytes seen so far (Buffer), only while state === HEAD
    this.remaining = 0; // CHUNK_DATA / FIXED: bytes still to skip
    this.size = 0; // CHUNK_SIZE: hex value so far
    this.inExt = false; // CHUNK_SIZE: past a ';' extension
    this.lineLen = 0; // TRAILER: length of the current line
    this.status = 0;
    this.sentAt = 0;
    this.sentSlice = -1;
    this.busy = false;
    this.connected = false;
    this.socket = null;
    this.connect();
  }

  connect() {
    if (stopped) return;
    const s = net.connect({ host: opts.host, port: this.target.port, noDelay: true });
    this.socket = s;
    this.busy = false;
    this.connected = false;
    s.on('connect', () => {
      this.connected = true;
      if (active === this.target) this.send();
    });
    s.on('data', (buf) => this.onData(buf));
    s.on('error', () => {});
    s.on('close', () => {
      this.connected = false;
      if (stopped) return;
      // A connection lost mid-response is an error; the loop goes on on a new connection.
      if (this.busy && this.sentSlice !== -1) this.target.errors++;
      this.busy = false;
      setTimeout(() => this.connect(), 10);
    });
  }

  send() {
    if (stopped || this.busy || !this.connected) return;
    this.busy = true;
    this.state = HEAD;
    this.head = null;
    this.sentSlice = sliceId;
    this.sentAt = performance.now();
    this.socket.write(this.target.request);
  }

  done() {
    const t = this.target;
    this.busy = false;
    t.total++;
    if (this.sentSlice !== -1 && measuring) {
      t.requests++;
      slices[this.sentSlice].count++;
      if (this.status < 200 || this.status >= 300) t.non2xx++;
      t.recordLatency(performance.now() - this.sentAt);
    }
    if (active === t) this.send();
  }

  error() {
    if (this.sentSlice !== -1) this.target.errors++;
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
            this.error();
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
              if (i !== n) this.error(); // nothing may follow a response we did not ask for
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
              if (i !== n) this.error();
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

function shuffle(a) {
  const b = [...a];
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
}

const targets = opts.ports.map((p) => new Target(p));
for (const t of targets) for (let c = 0; c < opts.connections; c++) t.conns.push(new Connection(t));

function activate(t) {
  active = t;
  if (t !== null) for (const c of t.conns) c.send();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run() {
  const single = targets.length === 1;
  // Warm-up: every target in turn (or the only one throughout), --warmup seconds of load each, so
  // that each server is past its JIT warm-up (V8 is still compiling the request path for seconds).
  const warmEnd = performance.now() + opts.warmup * 1000 * targets.length;
  while (performance.now() < warmEnd) {
    for (const t of shuffle(targets)) {
      activate(t);
      await sleep(single ? Math.max(0, warmEnd - performance.now()) : Math.min(opts.sliceMs, Math.max(0, warmEnd - performance.now())));
    }
  }
  measuring = true;
  send({ type: 'measure-start', cpuSeconds: cpuSeconds() });
  const sliceMs = single ? opts.duration * 1000 : opts.sliceMs;
  const cycles = Math.max(1, Math.round((opts.duration * 1000) / sliceMs));
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (const t of single ? targets : shuffle(targets)) {
      slices.push({ target: t, cycle, count: 0, ms: 0 });
      sliceId = slices.length - 1;
      const t0 = performance.now();
      activate(t);
      await sleep(sliceMs);
      slices[sliceId].ms = performance.now() - t0;
      sliceId = -1;
    }
  }
  activate(null);
  // Let the last slice's requests finish (they count for it), then stop.
  const drainUntil = performance.now() + 1000;
  while (targets.some((t) => t.conns.some((c) => c.busy)) && performance.now() < drainUntil) await sleep(5);
  const cpu = cpuSeconds();
  measuring = false;
  stopped = true;
  for (const t of targets) for (const c of t.conns) c.socket?.destroy();
  send({
    type: 'result',
    cpuSeconds: cpu,
    targets: targets.map((t) => {
      const own = slices.filter((s) => s.target === t);
      const seconds = own.reduce((a, s) => a + s.ms, 0) / 1000;
      const lat = t.latencies.subarray(0, t.nLat).sort();
      return {
        port: t.port,
        requests: t.requests,
        total: t.total,
        errors: t.errors,
        non2xx: t.non2xx,
        seconds,
        rps: t.requests / seconds,
        latencyMs: { p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: lat[t.nLat - 1] ?? 0 },
        slices: own.map((s) => ({ cycle: s.cycle, count: s.count, ms: s.ms })),
      };
    }),
  });
  if (process.connected) process.disconnect();
}

run().catch((err) => {
  process.stderr.write(`loadgen: ${err?.stack ?? err}\n`);
  process.exit(1);
});

// The parent went away (Ctrl-C, crash): stop at once.
process.on('disconnect', () => {
  if (!stopped) process.exit(0);
});
