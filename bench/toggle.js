'use strict';
/**
 * Within-process A/B of the HTTP hook's per-request work: one server process whose hook is switched
 * on and off every 100 ms while bench/loadgen.js loads it; the rate and CPU of adjacent on/off phases
 * are compared (bench/experiments/toggle-preload.js). Process-level differences (memory layout,
 * JIT decisions, the VM's speed of the moment) cancel, so per-request changes of a percent show,
 * which the sliced throughput benchmark cannot resolve on this machine. What it does not see: the
 * cost of the runtime (exporter, scrapes, sampler) and of the mechanisms left on in the off phase
 * (diagnostics-channel messages, the prototype wrappers) — bench/throughput.js measures those.
 *
 * The switch is inserted into a private copy of the build (the product has none): the off phase
 * returns at the top of the `http.server.request.start` handler, so no request state is created.
 *
 *   npm run build && node bench/toggle.js [--runs 3] [--seconds 12] [--dist DIR]
 *   node bench/toggle.js --preload bench/experiments/minimal-hook.js   # any preload honouring the switch
 *   node bench/toggle.js --preload none                                # A/A: the harness's own bias
 */
const { spawn, fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const ROOT = path.join(__dirname, '..');
const SWITCH_AT = 'function onRequestStart(message) {';

function parseArgs(argv) {
  const o = { runs: 3, seconds: 12, dist: path.join(ROOT, 'dist'), preload: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--runs') o.runs = Number(v);
    else if (a === '--seconds') o.seconds = Number(v);
    else if (a === '--dist') o.dist = path.resolve(v);
    else if (a === '--preload') o.preload = v === 'none' ? 'none' : path.resolve(v);
    else throw new Error(`unknown option ${a}`);
  }
  if (!(o.runs >= 1) || !(o.seconds > 3)) throw new Error('--runs must be >= 1 and --seconds > 3');
  return o;
}

/** A copy of the build whose request-start handler honours globalThis.__chatpulseBenchOff. */
function switchableBuild(dist) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatpulse-toggle-'));
  fs.cpSync(dist, path.join(dir, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const file = path.join(dir, 'dist', 'instrumentation', 'hooks', 'http.js');
  const src = fs.readFileSync(file, 'utf8');
  if (src.split(SWITCH_AT).length !== 2) throw new Error(`${file}: expected one "${SWITCH_AT}" to insert the switch`);
  fs.writeFileSync(file, src.replace(SWITCH_AT, `${SWITCH_AT} if (globalThis.__chatpulseBenchOff === true) return;`));
  return { dir, register: path.join(dir, 'dist', 'instrumentation', 'register.js') };
}

async function once(preloads, seconds) {
  const server = spawn(process.execPath, [...preloads.flatMap((p) => ['--require', p]), path.join(__dirname, 'sse-server.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const lines = readline.createInterface({ input: server.stdout });
    let result;
    const port = await new Promise((resolve, reject) => {
      lines.on('line', (l) => {
        if (l.startsWith('ready ')) resolve(Number(l.slice(6)));
        if (l.startsWith('toggle ')) result = JSON.parse(l.slice(7));
      });
      server.once('exit', (c) => reject(new Error(`server exited with ${c} before ready`)));
    });
    await new Promise((resolve, reject) => {
      const lg = fork(path.join(__dirname, 'loadgen.js'), ['--ports', String(port), '--connections', '16', '--warmup', '1', '--duration', String(seconds)], { stdio: 'ignore' });
      lg.once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`loadgen exited with ${c}`))));
    });
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    if (result === undefined) throw new Error('the server printed no toggle result');
    return result;
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const toggle = path.join(__dirname, 'experiments', 'toggle-preload.js');
  let build;
  let preloads;
  if (opts.preload === 'none') preloads = [toggle];
  else if (opts.preload !== undefined) preloads = [opts.preload, toggle];
  else {
    build = switchableBuild(opts.dist);
    preloads = [build.register, toggle];
  }
  const label = opts.preload ?? `chatpulse (${path.relative(ROOT, opts.dist) || opts.dist})`;
  console.log(`toggling ${label} every 100 ms under load, ${opts.runs} × ${opts.seconds} s`);
  const ratios = [];
  try {
    for (let i = 0; i < opts.runs; i++) {
      const r = await once(preloads, opts.seconds);
      ratios.push(r.ratio);
      console.log(
        `run ${i + 1}: on/off throughput ${r.ratio.toFixed(3)} (all pairs ${r.allPairsRatio.toFixed(3)}), ` +
          `+${r.dcpu.toFixed(1)} µs CPU per request over ${r.offCpu.toFixed(0)}, ${r.pairs} quiet phase pairs`,
      );
    }
  } finally {
    if (build !== undefined) fs.rmSync(build.dir, { recursive: true, force: true });
  }
  ratios.sort((a, b) => a - b);
  const median = (ratios[(ratios.length - 1) >> 1] + ratios[ratios.length >> 1]) / 2;
  console.log(`median on/off ratio ${median.toFixed(3)} (A/A with --preload none reads about 0.99: the harness's bias)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
