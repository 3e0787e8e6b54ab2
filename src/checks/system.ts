import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import * as os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { memoryLimitBytes } from '../../instrumentation/metrics/process-metrics';
import { bytes, ms, percent, round } from './format';
import { gradeHigh, gradeLow, thresholds, type Thresholds } from './grade';
import { checkOptions } from './options';
import { errorMessage } from './redact';
import type { CheckOutcome, DependencyCheck } from './types';

/**
 * The process's own resources, one check per measurement so each is graded, shown and alerted
 * on by itself: memory (RSS against the cgroup limit or total memory), CPU share since the last
 * run, event-loop delay p99, and free disk space where the app writes.
 */

export interface SystemCheckCommon {
  /**
   * Default false: resource pressure degrades the service; whether it should take an instance out
   * of rotation is a deployment decision (turn it on for memory if the OOM killer is the alternative).
   */
  readonly required?: boolean;
  /** Default 10000 ms. */
  readonly intervalMs?: number;
  /** Default 2000 ms (only the disk check does I/O). */
  readonly timeoutMs?: number;
}

export interface SystemChecksOptions extends SystemCheckCommon {
  /** RSS / memory limit. Default warn 0.8, fail 0.9. `false` leaves the check out. */
  readonly memory?: Partial<Thresholds> | false;
  /** Process CPU / available CPUs. Default warn 0.8, fail 0.9. */
  readonly cpu?: Partial<Thresholds> | false;
  /** Event-loop delay p99, ms. Default warn 100, fail 500. */
  readonly eventLoop?: Partial<Thresholds> | false;
  /** Free share of the filesystem holding `path` (default the cwd). Default warn < 0.10, fail < 0.05. */
  readonly disk?: (Partial<Thresholds> & { readonly path?: string }) | false;
}

export const SYSTEM_DEFAULTS = {
  required: false,
  intervalMs: 10_000,
  timeoutMs: 2_000,
  memory: { warn: 0.8, fail: 0.9 },
  cpu: { warn: 0.8, fail: 0.9 },
  eventLoop: { warn: 100, fail: 500 },
  disk: { warn: 0.1, fail: 0.05 },
} as const;

/** All four system checks (minus any set to `false`). */
export function systemChecks(options: SystemChecksOptions = {}): DependencyCheck[] {
  const shared: SystemCheckCommon = {
    ...(options.required !== undefined ? { required: options.required } : {}),
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
  const out: DependencyCheck[] = [];
  if (options.memory !== false) out.push(memoryCheck({ ...shared, thresholds: options.memory }));
  if (options.cpu !== false) out.push(cpuCheck({ ...shared, thresholds: options.cpu }));
  if (options.eventLoop !== false) out.push(eventLoopCheck({ ...shared, thresholds: options.eventLoop }));
  if (options.disk !== false) {
    out.push(diskCheck({ ...shared, thresholds: options.disk, ...(options.disk?.path !== undefined ? { path: options.disk.path } : {}) }));
  }
  return out;
}

interface Graded extends SystemCheckCommon {
  readonly thresholds?: Partial<Thresholds> | undefined;
}

/** The scheduling fields every system check shares. */
function scheduling(label: string, o: SystemCheckCommon) {
  const c = checkOptions(label, { required: SYSTEM_DEFAULTS.required, intervalMs: SYSTEM_DEFAULTS.intervalMs, timeoutMs: SYSTEM_DEFAULTS.timeoutMs }, o);
  return { component: 'system', required: c.required, intervalMs: c.intervalMs, timeoutMs: c.timeoutMs };
}

/** The outcome of a ratio graded against warn/fail (memory and CPU share one shape). */
function utilization(ratio: number, t: Thresholds, problem: string, details: Record<string, unknown>): CheckOutcome {
  const status = gradeHigh(ratio, t);
  return {
    measurement: 'utilization',
    status,
    value: round(ratio, 4),
    unit: 'ratio',
    display: percent(ratio),
    threshold: `<${percent(t.warn)}`,
    ...(status !== 'pass' ? { message: problem } : {}),
    details,
  };
}

/** RSS against the container's memory limit (cgroup v2/v1), else total memory. */
export function memoryCheck(options: Graded = {}): DependencyCheck {
  const t = thresholds('memoryCheck', SYSTEM_DEFAULTS.memory, options.thresholds, 'high');
  return {
    name: 'system:memory',
    measurement: 'utilization',
    ...scheduling('memoryCheck', options),
    async run(): Promise<CheckOutcome> {
      const mem = process.memoryUsage();
      // Read each run: a container's limit can be changed in place.
      const limit = memoryLimitBytes();
      const ratio = mem.rss / limit;
      return utilization(ratio, t, `RSS ${bytes(mem.rss)} is ${percent(ratio)} of the ${bytes(limit)} limit`, {
        rssBytes: mem.rss,
        limitBytes: limit,
        heapUsedBytes: mem.heapUsed,
        heapTotalBytes: mem.heapTotal,
        externalBytes: mem.external,
        thresholds: t,
      });
    },
  };
}

/**
 * CPU the process used since the previous run, as a share of the CPUs it may use: the cgroup
 * quota when one is set (a container limited to 1.5 CPUs on a 64-core host is saturated at 1.5),
 * else the available parallelism. A single-threaded saturation on a many-core host shows up in
 * the event-loop check instead.
 */
/**
 * The shortest window the CPU share is graded over. Over a few milliseconds a share says nothing
 * about load (a start-up burst of GC and pool threads reads over 100 % of two CPUs), and a probe
 * must not turn that into a failure.
 */
export const CPU_MIN_WINDOW_MS = 200;

export function cpuCheck(options: Graded = {}): DependencyCheck {
  const t = thresholds('cpuCheck', SYSTEM_DEFAULTS.cpu, options.thresholds, 'high');
  let last = process.cpuUsage();
  let lastAt = performance.now();
  return {
    name: 'system:cpu',
    measurement: 'utilization',
    ...scheduling('cpuCheck', options),
    async run(): Promise<CheckOutcome> {
      const now = performance.now();
      const usage = process.cpuUsage();
      const usedUs = usage.user - last.user + (usage.system - last.system);
      const elapsedUs = (now - lastAt) * 1000;
      if (elapsedUs < CPU_MIN_WINDOW_MS * 1000) {
        // Not graded yet; the window keeps growing from the same start until it is long enough.
        return {
          measurement: 'utilization',
          status: 'pass',
          unit: 'ratio',
          threshold: `<${percent(t.warn)}`,
          message: `measuring: ${Math.round(elapsedUs / 1000)} ms so far, graded over at least ${CPU_MIN_WINDOW_MS} ms`,
          details: { windowMs: round(elapsedUs / 1000, 0), thresholds: t },
        };
      }
      last = usage;
      lastAt = now;
      const capacity = cpuCapacity();
      const ratio = elapsedUs > 0 ? Math.max(0, usedUs / (elapsedUs * capacity.cpus)) : 0;
      return utilization(ratio, t, `CPU ${percent(ratio)} of ${capacity.cpus} CPU(s) over the last ${Math.round(elapsedUs / 1e6)} s`, {
        cpus: capacity.cpus,
        cpuLimitSource: capacity.source,
        windowMs: round(elapsedUs / 1000, 0),
        usedCpuMs: round(usedUs / 1000, 0),
        thresholds: t,
      });
    },
  };
}

/** Event-loop delay p99 since the previous run: what every stream waits on before its next chunk. */
export function eventLoopCheck(options: Graded = {}): DependencyCheck {
  const t = thresholds('eventLoopCheck', SYSTEM_DEFAULTS.eventLoop, options.thresholds, 'high');
  // Enabled now so the first run already has samples; its timer does not hold the process.
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  return {
    name: 'system:eventLoop',
    measurement: 'p99',
    ...scheduling('eventLoopCheck', options),
    async run(): Promise<CheckOutcome> {
      // With no samples the histogram reports NaN/huge sentinels.
      const has = h.count > 0;
      const p99 = has ? h.percentile(99) / 1e6 : 0;
      const details = {
        p50Ms: has ? round(h.percentile(50) / 1e6) : 0,
        p99Ms: round(p99),
        maxMs: has ? round(h.max / 1e6) : 0,
        meanMs: has ? round(h.mean / 1e6) : 0,
        samples: h.count,
        thresholds: t,
      };
      h.reset();
      const status = gradeHigh(p99, t);
      return {
        measurement: 'p99',
        status,
        value: round(p99),
        unit: 'ms',
        display: ms(p99),
        threshold: `<${t.warn}ms`,
        ...(status !== 'pass' ? { message: `event-loop delay p99 ${ms(p99)}: the process is too busy to serve streams promptly` } : {}),
        details,
      };
    },
    async close() {
      h.disable();
    },
  };
}

/** Free space (for unprivileged users) on the filesystem holding `path`. */
export function diskCheck(options: Graded & { readonly path?: string } = {}): DependencyCheck {
  const t = thresholds('diskCheck', SYSTEM_DEFAULTS.disk, options.thresholds, 'low');
  const path = options.path ?? process.cwd();
  return {
    name: 'system:disk',
    measurement: 'free',
    ...scheduling('diskCheck', options),
    async run(): Promise<CheckOutcome> {
      let s: Awaited<ReturnType<typeof statfs>>;
      try {
        s = await statfs(path);
      } catch (err) {
        return { measurement: 'free', status: 'fail', message: `cannot read disk space of ${path}: ${errorMessage(err)}`, details: { path } };
      }
      const total = s.blocks * s.bsize;
      const available = s.bavail * s.bsize;
      const ratio = total > 0 ? available / total : 0;
      const status = gradeLow(ratio, t);
      return {
        measurement: 'free',
        status,
        value: round(ratio, 4),
        unit: 'ratio',
        display: percent(ratio),
        threshold: `>${percent(t.warn)}`,
        ...(status !== 'pass' ? { message: `${bytes(available)} free (${percent(ratio)}) on ${path}` } : {}),
        details: { path, totalBytes: total, availableBytes: available, freeBytes: s.bfree * s.bsize, thresholds: t },
      };
    },
  };
}

/** CPUs the process may use: the cgroup quota if lower than the CPU count. */
export function cpuCapacity(): { cpus: number; source: 'cgroup' | 'host' } {
  const host = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
  const quota = cgroupCpuQuota();
  return quota !== undefined && quota < host ? { cpus: quota, source: 'cgroup' } : { cpus: host, source: 'host' };
}

function cgroupCpuQuota(): number | undefined {
  try {
    // cgroup v2: "<quota> <period>" or "max <period>".
    const [q, p] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    const quota = Number(q);
    const period = Number(p);
    if (q !== 'max' && quota > 0 && period > 0) return quota / period;
    return undefined;
  } catch {
    // Not cgroup v2.
  }
  try {
    const quota = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8'));
    const period = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8'));
    if (quota > 0 && period > 0) return quota / period;
  } catch {
    // No cgroup CPU limit, or not Linux.
  }
  return undefined;
}
