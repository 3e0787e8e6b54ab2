'use strict';
/**
 * Preload for bench/toggle.js (after the switchable build's register.js): flips
 * `globalThis.__chatpulseBenchOff` every PHASE_MS and records, per phase, the responses finished and
 * the process CPU used. On SIGTERM prints one `toggle {json}` line: medians over adjacent (on, off)
 * phase pairs of the rate ratio and of the CPU-per-request difference, over the pairs taken while
 * the machine was in its fast state (this VM's speed swings 2-3x under its neighbours).
 */
const dc = require('node:diagnostics_channel');

const PHASE_MS = Number(process.env.PHASE_MS || 100);
const WARM_MS = Number(process.env.WARM_MS || 2500);
let off = false;
let count = 0;
let t0 = performance.now();
let cpu0 = process.cpuUsage();
let started = false;
const phases = [];

dc.subscribe('http.server.response.finish', () => {
  count++;
});
setTimeout(() => {
  started = true;
  t0 = performance.now();
  count = 0;
  cpu0 = process.cpuUsage();
}, WARM_MS).unref();
setInterval(() => {
  if (started) {
    const now = performance.now();
    const c = process.cpuUsage(cpu0);
    phases.push({ off, n: count, ms: now - t0, cpu: c.user + c.system });
    t0 = now;
    count = 0;
    cpu0 = process.cpuUsage();
  }
  off = !off;
  globalThis.__chatpulseBenchOff = off;
}, PHASE_MS).unref();

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};

process.on('SIGTERM', () => {
  const pairs = [];
  for (let i = 1; i < phases.length; i++) {
    const a = phases[i - 1];
    const b = phases[i];
    if (a.off === b.off || a.n < 20 || b.n < 20) continue;
    const on = a.off ? b : a;
    const of = a.off ? a : b;
    pairs.push({ ratio: on.n / on.ms / (of.n / of.ms), dcpu: on.cpu / on.n - of.cpu / of.n, offCpu: of.cpu / of.n });
  }
  const fastest = [...pairs.map((p) => p.offCpu)].sort((x, y) => x - y)[Math.floor(pairs.length * 0.1)] ?? Infinity;
  const quiet = pairs.filter((p) => p.offCpu <= fastest * 1.15);
  const out = {
    ratio: median(quiet.map((p) => p.ratio)),
    dcpu: median(quiet.map((p) => p.dcpu)),
    offCpu: median(quiet.map((p) => p.offCpu)),
    pairs: quiet.length,
    allPairsRatio: median(pairs.map((p) => p.ratio)),
  };
  process.stdout.write(`toggle ${JSON.stringify(out)}\n`, () => process.exit(0));
});
