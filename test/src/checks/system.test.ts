import { afterEach, describe, expect, it } from 'vitest';
import { CPU_MIN_WINDOW_MS, cpuCheck, diskCheck, eventLoopCheck, memoryCheck, systemChecks } from '../../../src/checks/system';
import type { DependencyCheck } from '../../../src/checks/types';
import { memoryLimitBytes } from '../../../instrumentation/metrics/process-metrics';

const made: DependencyCheck[] = [];
function keep<T extends DependencyCheck>(c: T): T {
  made.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((c) => c.close?.()));
});
const run = (c: DependencyCheck) => c.run(new AbortController().signal);

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Burn CPU and block the event loop.
  }
}

describe('system checks', () => {
  it('builds one check per measurement, each optional', async () => {
    const all = systemChecks().map(keep);
    expect(all.map((c) => [c.name, c.component, c.measurement, c.required])).toEqual([
      ['system:memory', 'system', 'utilization', false],
      ['system:cpu', 'system', 'utilization', false],
      ['system:eventLoop', 'system', 'p99', false],
      ['system:disk', 'system', 'free', false],
    ]);
    expect(systemChecks({ disk: false, cpu: false, eventLoop: false, required: true }).map(keep).map((c) => [c.name, c.required])).toEqual([
      ['system:memory', true],
    ]);
    for (const c of all) expect((await run(c)).status).not.toBe('fail');
  });

  it('memory: RSS against the limit from memoryLimitBytes(), graded by the given thresholds', async () => {
    const r = await run(keep(memoryCheck()));
    const d = r.details as { rssBytes: number; limitBytes: number };
    expect(d.limitBytes).toBe(memoryLimitBytes());
    expect(r.value).toBeCloseTo(d.rssBytes / d.limitBytes, 3);
    expect(r).toMatchObject({ unit: 'ratio', status: 'pass', threshold: '<80%' });
    const tiny = await run(keep(memoryCheck({ thresholds: { warn: 1e-9, fail: 2 } })));
    expect(tiny.status).toBe('warn');
    expect(tiny.message).toMatch(/^RSS .* is .*% of the .* limit$/);
    expect((await run(keep(memoryCheck({ thresholds: { warn: 1e-9, fail: 1e-8 } })))).status).toBe('fail');
  });

  it('cpu: share of available CPUs since the last run', async () => {
    const c = keep(cpuCheck({ thresholds: { warn: 0.05, fail: 2 } }));
    await run(c);
    // What the process itself counts; on a loaded machine it is less than the wall time.
    const before = process.cpuUsage();
    busy(200);
    const spent = process.cpuUsage(before);
    const r = await run(c);
    const d = r.details as { cpus: number; usedCpuMs: number; windowMs: number };
    expect(d.usedCpuMs).toBeGreaterThanOrEqual(Math.floor((spent.user + spent.system) / 1000));
    expect(d.windowMs).toBeGreaterThanOrEqual(200);
    expect(r.value).toBeGreaterThan(0);
    expect(r.value).toBeCloseTo(d.usedCpuMs / d.windowMs / d.cpus, 2);
    expect(r.status).toBe(r.value! >= 0.05 ? 'warn' : 'pass');
  });

  it('cpu: a window shorter than CPU_MIN_WINDOW_MS is not graded, and keeps growing until it is', async () => {
    const c = keep(cpuCheck({ thresholds: { warn: 0.01, fail: 0.02 } }));
    busy(50);
    const early = await run(c);
    expect(early.status).toBe('pass');
    expect(early.value).toBeUndefined();
    expect(early.message).toMatch(new RegExp(`^measuring: \\d+ ms so far, graded over at least ${CPU_MIN_WINDOW_MS} ms$`));
    busy(CPU_MIN_WINDOW_MS);
    const graded = await run(c);
    // Graded over the whole window since the check was made, the early run's 50 ms included.
    expect((graded.details as { windowMs: number }).windowMs).toBeGreaterThanOrEqual(CPU_MIN_WINDOW_MS + 50);
    expect(graded.status).toBe('fail');
  });

  it('event loop: p99 delay since the last run, graded 100/500 ms by default', async () => {
    const c = keep(eventLoopCheck());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await run(c)).status).toBe('pass');
    // The first tick after a reset only sets the histogram's baseline.
    await new Promise((resolve) => setTimeout(resolve, 50));
    busy(160);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const r = await run(c);
    expect(r.value).toBeGreaterThanOrEqual(100);
    expect(r.status).toBe('warn');
    expect(r.unit).toBe('ms');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await run(c)).status).toBe('pass'); // reset after each run
  });

  it('disk: free share of the filesystem holding the path', async () => {
    const r = await run(keep(diskCheck()));
    const d = r.details as { path: string; totalBytes: number; availableBytes: number };
    expect(d.path).toBe(process.cwd());
    expect(d.totalBytes).toBeGreaterThan(0);
    expect(r.value).toBeCloseTo(d.availableBytes / d.totalBytes, 3);
    const full = await run(keep(diskCheck({ path: '/tmp', thresholds: { warn: 1, fail: 1 } })));
    expect(full.status).toBe('fail');
    expect(full.message).toMatch(/free \(.*%\) on \/tmp$/);
    const missing = await run(keep(diskCheck({ path: '/no/such/dir' })));
    expect(missing.status).toBe('fail');
    expect(missing.message).toMatch(/ENOENT/);
  });

  it('rejects inverted thresholds at construction', () => {
    expect(() => memoryCheck({ thresholds: { warn: 0.95 } })).toThrow(/warn \(0.95\) must be at most fail \(0.9\)/);
    expect(() => diskCheck({ thresholds: { fail: 0.2 } })).toThrow(/must be at least fail/);
    expect(() => cpuCheck({ intervalMs: -1 })).toThrow(/intervalMs/);
  });
});
