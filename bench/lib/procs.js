'use strict';
/**
 * Child-process bookkeeping shared by the benchmarks: every child is registered, and all of them are
 * SIGKILLed when the benchmark exits for any reason (normal end, error, Ctrl-C, SIGTERM, SIGHUP).
 * Servers are also started with BENCH_WATCH_STDIN=1 and a stdin pipe, so even a `kill -9` of the
 * benchmark closes their stdin and they exit by themselves.
 */
const { spawn, fork, execFileSync } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

let installed = false;
function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping benchmark children\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    killAll();
    process.stderr.write(`benchmark failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    killAll();
    process.stderr.write(`benchmark failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}

/** Spawns a server and resolves once it printed `ready <port>`. */
function startServer({ nodeArgs, script, env, cwd, readyTimeoutMs = 30_000, cpus }) {
  // `taskset -c CPUS node …` execs node with that affinity from its first instruction, so every
  // thread it starts (GC, compiler, libuv pool) inherits it; the pid stays node's.
  const [file, args] = cpus === undefined ? [process.execPath, [...nodeArgs, script]] : ['taskset', ['-c', cpus, process.execPath, ...nodeArgs, script]];
  const child = track(
    spawn(file, args, {
      cwd,
      env: { ...env, BENCH_WATCH_STDIN: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (stderr.length < 20_000) stderr += d;
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not print "ready" within ${readyTimeoutMs} ms\nstderr: ${stderr}`));
    }, readyTimeoutMs);
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /ready (\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${sig})\nstderr: ${stderr}`));
    });
  });
  const stop = (timeoutMs = 5000) =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(parseCpu(stdout));
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('exit', () => {
        clearTimeout(t);
        resolve(parseCpu(stdout));
      });
      child.kill('SIGTERM');
    });
  return { child, ready, stop, stderr: () => stderr };
}

function parseCpu(stdout) {
  const m = /cpu (\d+) (\d+)/.exec(stdout);
  return m ? { userMicros: Number(m[1]), systemMicros: Number(m[2]) } : undefined;
}

function forkTracked(script, args, options) {
  return track(fork(script, args, options));
}

let clkTck;
function ticksPerSecond() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** CPU seconds the whole machine spent busy (all CPUs, all processes), from /proc/stat. */
function machineBusySeconds() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  // cpu user nice system idle iowait irq softirq steal ...
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] || 0)) / ticksPerSecond();
}

/**
 * The fields of /proc/<pid>/stat from field 3 (state) on, or undefined once the process is gone.
 * Field 2 (comm) may contain spaces; everything after the last ')' is space-separated.
 */
function statFields(pid, file = `/proc/${pid}/stat`) {
  let stat;
  try {
    stat = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * utime and stime (fields 14 and 15) of a process (all its threads), or of the stat `file` of one
 * of its threads, in seconds; NaN once it is gone.
 */
function procCpuTimes(pid, file) {
  ticksPerSecond();
  const f = statFields(pid, file);
  return f === undefined ? { user: NaN, system: NaN } : { user: Number(f[11]) / clkTck, system: Number(f[12]) / clkTck };
}

/**
 * utime and stime of a process's main thread alone (the thread running JavaScript), in seconds.
 * The process's times less these are its other threads': V8's GC helpers and background compiler,
 * libuv's pool.
 */
function mainThreadCpuTimes(pid) {
  const t = procCpuTimes(pid, `/proc/${pid}/task/${pid}/stat`);
  return { mainUser: t.user, mainSystem: t.system };
}

/**
 * Page faults of a process (all its threads) and its threads' context switches (summed over the
 * status file of each task in /proc/<pid>/task): kernel work that is not a system call.
 */
function procActivity(pid) {
  const out = { minorFaults: NaN, majorFaults: NaN, voluntarySwitches: 0, involuntarySwitches: 0 };
  const f = statFields(pid);
  if (f === undefined) return out;
  // Fields 10 (minflt) and 12 (majflt).
  out.minorFaults = Number(f[7]);
  out.majorFaults = Number(f[9]);
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      out.voluntarySwitches += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      out.involuntarySwitches += Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
    }
  } catch {
    // a thread (or the process) is gone meanwhile
  }
  return out;
}

/** utime + stime of a process (all its threads), in seconds. */
function procCpuSeconds(pid) {
  const t = procCpuTimes(pid);
  return t.user + t.system;
}

/** Pins a running process, all its threads, to CPUS (taskset list syntax); children inherit it. */
function pinProcess(pid, cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/** CPU seconds (utime + stime) of every process whose command name is one of `names`, by pid. */
function cpuByCommand(names) {
  ticksPerSecond();
  const out = new Map();
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (!names.includes(comm)) continue;
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(e), { comm, seconds: (Number(rest[11]) + Number(rest[12])) / clkTck });
  }
  return out;
}

module.exports = { pinProcess, installCleanup, startServer, forkTracked, procCpuSeconds, procCpuTimes, mainThreadCpuTimes, procActivity, machineBusySeconds, cpuByCommand, killAll };
