import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { getHeapStatistics } from 'node:v8';

/** One reading of the process gauges, taken at collection time, never on the hot path. */
export interface ProcessReading {
  readonly rssBytes: number;
  readonly memoryLimitBytes: number;
  readonly memoryUtilization: number;
  readonly heapUsedBytes: number;
  readonly heapLimitBytes: number;
  readonly cpuUserSeconds: number;
  readonly cpuSystemSeconds: number;
  /** Share of the available CPUs used since the previous reading, 0..1. */
  readonly cpuUtilization: number;
  /** Event-loop delay since the previous reading, in seconds. */
  readonly eventLoopDelay: { p50: number; p90: number; p99: number; max: number; mean: number };
}

/** The cgroup v2 (or v1) memory limit when one is set, else total system memory. */
export function memoryLimitBytes(): number {
  const total = os.totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const raw = readFileSync(file, 'utf8').trim();
      const n = Number(raw);
      // v1 reports a huge number when unlimited; anything above physical memory means "no limit".
      if (raw !== 'max' && Number.isFinite(n) && n > 0 && n < total) return n;
    } catch {
      // Not in a cgroup with a limit, or not Linux.
    }
  }
  return total;
}

function cpuCount(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length || 1;
}

/**
 * Samples memory, CPU and event-loop delay. Each reader of the same sampler shares the reading of
 * one collection cycle, so two exporters do not halve each other's CPU windows.
 */
export class ProcessSampler {
  private readonly eld: IntervalHistogram;
  private readonly memLimit = memoryLimitBytes();
  private readonly cpus = cpuCount();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private cached: ProcessReading | undefined;
  private cachedAt = -Infinity;

  constructor(private readonly minIntervalMs = 1000) {
    // 20 ms sampling: finer costs the host measurable CPU for no better p99 at this scale.
    this.eld = monitorEventLoopDelay({ resolution: 20 });
    this.eld.enable();
  }

  read(): ProcessReading {
    const now = performance.now();
    if (this.cached !== undefined && now - this.cachedAt < this.minIntervalMs) return this.cached;
    const mem = process.memoryUsage();
    const heap = getHeapStatistics();
    const cpu = process.cpuUsage();
    const elapsedUs = (now - this.lastAt) * 1000;
    const usedUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    const cpuUtilization = elapsedUs > 0 ? Math.min(1, Math.max(0, usedUs / (elapsedUs * this.cpus))) : 0;
    this.lastCpu = cpu;
    this.lastAt = now;
    const h = this.eld;
    const ns = 1e-9;
    // With no samples yet the histogram reports NaN/huge sentinels: report zero instead.
    const has = h.count > 0;
    const eventLoopDelay = {
      p50: has ? h.percentile(50) * ns : 0,
      p90: has ? h.percentile(90) * ns : 0,
      p99: has ? h.percentile(99) * ns : 0,
      max: has ? h.max * ns : 0,
      mean: has ? h.mean * ns : 0,
    };
    h.reset();
    this.cached = {
      rssBytes: mem.rss,
      memoryLimitBytes: this.memLimit,
      memoryUtilization: mem.rss / this.memLimit,
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: heap.heap_size_limit,
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      cpuUtilization,
      eventLoopDelay,
    };
    this.cachedAt = now;
    return this.cached;
  }

  stop(): void {
    this.eld.disable();
  }
}
