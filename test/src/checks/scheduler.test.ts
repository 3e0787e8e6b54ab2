import { afterEach, describe, expect, it } from 'vitest';
import { CheckScheduler, type StatusChange } from '../../../src/checks/scheduler';
import type { CheckResult, CheckStatus, DependencyCheck } from '../../../src/checks/types';
import { sleep, waitFor } from './wait';

type Partial = Omit<Awaited<ReturnType<DependencyCheck['run']>>, 'measurement'>;

function fakeCheck(
  name: string,
  run: (signal: AbortSignal) => Promise<Partial>,
  opts: { intervalMs?: number; timeoutMs?: number; close?: () => Promise<void> } = {},
): DependencyCheck {
  return {
    name,
    component: 'test',
    required: true,
    measurement: 'responseTime',
    intervalMs: opts.intervalMs ?? 1000,
    timeoutMs: opts.timeoutMs ?? 500,
    // Not async: a synchronous throw from `run` must reach the scheduler as one.
    run: (signal) => run(signal).then((r) => ({ measurement: 'responseTime', ...r })),
    ...(opts.close !== undefined ? { close: opts.close } : {}),
  };
}

/** Resolves after `ms`, or rejects as soon as the signal aborts, as a well-behaved check does. */
function work(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    });
  });
}

const schedulers: CheckScheduler[] = [];
function scheduler(checks: DependencyCheck[]): CheckScheduler {
  const s = new CheckScheduler(checks, { stopTimeoutMs: 1000 });
  schedulers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
});

describe('CheckScheduler', () => {
  it('reports "not checked yet" as warn before the first run, and answers immediately', async () => {
    const s = scheduler([fakeCheck('slow', async (signal) => (await work(200, signal), { status: 'pass' }))]);
    s.start();
    const t0 = performance.now();
    const [r] = s.results();
    expect(performance.now() - t0).toBeLessThan(5);
    expect(r).toMatchObject({ name: 'slow', component: 'test', status: 'warn', message: 'not checked yet', required: true });
    const done = await waitFor(() => s.result('slow')?.status === 'pass' && s.result('slow'), 2000, 'first result');
    expect(done.durationMs).toBeGreaterThanOrEqual(150);
    expect(done.measurement).toBe('responseTime');
    expect(Date.parse(done.time)).not.toBeNaN();
  });

  it('never overlaps runs of one check: ticks during a slow run start nothing', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const s = scheduler([
      fakeCheck(
        'slow',
        async (signal) => {
          runs++;
          running++;
          maxRunning = Math.max(maxRunning, running);
          try {
            await work(230, signal);
          } finally {
            running--;
          }
          return { status: 'pass' };
        },
        { intervalMs: 50, timeoutMs: 1000 },
      ),
    ]);
    s.start();
    await sleep(800);
    const stats = s.stats('slow')!;
    // ~16 ticks in 800 ms, but a run takes 230 ms: at most 4 runs (one per 230 ms), never two at
    // once, and the ticks that came during a run started nothing.
    expect(maxRunning).toBe(1);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThanOrEqual(4);
    expect(stats.runs).toBe(runs);
    expect(stats.skippedTicks).toBeGreaterThanOrEqual(2);
  });

  it('records a timeout at the deadline even when the check ignores its signal, and ignores the late result', async () => {
    let release: (() => void) | undefined;
    let runs = 0;
    const s = scheduler([
      fakeCheck(
        'hung',
        () => {
          runs++;
          // Ignores the signal on purpose.
          return new Promise<Partial>((resolve) => {
            release = () => resolve({ status: 'pass', message: 'late' });
          });
        },
        { intervalMs: 60, timeoutMs: 150 },
      ),
    ]);
    const t0 = performance.now();
    s.start();
    const r = await waitFor(() => s.result('hung')?.status === 'fail' && s.result('hung'), 1000, 'timeout');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(150 + 400);
    expect(r.message).toBe('timed out after 150 ms');
    expect(r.durationMs).toBeGreaterThanOrEqual(140);

    // The stuck run still blocks new runs (no pile-up), and runNow does not wait for it.
    await sleep(250);
    expect(runs).toBe(1);
    const t1 = performance.now();
    const now = await s.runNow('hung');
    expect(performance.now() - t1).toBeLessThan(20);
    expect(now.status).toBe('fail');
    expect(now.message).toMatch(/still not finished/);
    expect(s.stats('hung')).toMatchObject({ running: true, timeouts: 1 });

    // Its late result is ignored; once it ends, the next tick runs again.
    release!();
    await sleep(0);
    expect(s.result('hung')!.status).toBe('fail');
    await waitFor(() => runs >= 2, 1000, 'second run');
    release!(); // lets stop() finish without waiting out its bound
  });

  it('runNow joins the run in flight', async () => {
    let runs = 0;
    const s = scheduler([
      fakeCheck('c', async (signal) => {
        runs++;
        await work(100, signal);
        return { status: 'pass', value: runs, unit: 'count' };
      }),
    ]);
    const [a, b] = await Promise.all([s.runNow('c'), s.runNow('c')]);
    expect(runs).toBe(1);
    expect(a).toBe(b);
    s.start(); // joins nothing: the run ended, so start runs once more
    const all = await s.runNow();
    expect(all).toHaveLength(1);
    expect(runs).toBe(2);
    expect(all[0]!.value).toBe(2);
    await expect(s.runNow('nope')).rejects.toThrow(/no check named/);
  });

  it('calls the listener on every status change, and survives a throwing listener', async () => {
    const script: CheckStatus[] = ['pass', 'pass', 'warn', 'fail', 'fail', 'pass'];
    let i = 0;
    const s = scheduler([fakeCheck('c', async () => ({ status: script[i++] ?? 'pass', message: `run ${i}` }))]);
    const changes: StatusChange[] = [];
    s.onChange(() => {
      throw new Error('broken listener');
    });
    const off = s.onChange((c) => changes.push(c));
    for (let k = 0; k < script.length; k++) await s.runNow('c');
    expect(changes.map((c) => [c.previous.status, c.current.status, c.first])).toEqual([
      ['warn', 'pass', true],
      ['pass', 'warn', false],
      ['warn', 'fail', false],
      ['fail', 'pass', false],
    ]);
    expect(changes[0]!.previous.message).toBe('not checked yet');
    expect(s.stats('c')!.statusSince).toBe(changes[3]!.current.time);
    off();
    i = 2; // warn
    await s.runNow('c');
    expect(changes).toHaveLength(4);
  });

  it('turns thrown errors and invalid results into fail', async () => {
    const s = scheduler([
      fakeCheck('throws', () => {
        throw new Error('sync boom');
      }),
      fakeCheck('rejects', async () => {
        throw new Error('async boom');
      }),
      fakeCheck('invalid', async () => ({ status: 'ok' as unknown as CheckStatus })),
    ]);
    const results = await s.runNow();
    expect(results.map((r: CheckResult) => [r.name, r.status, r.message])).toEqual([
      ['throws', 'fail', 'sync boom'],
      ['rejects', 'fail', 'async boom'],
      ['invalid', 'fail', 'check returned an invalid status: ok'],
    ]);
  });

  it('stop() aborts in-flight runs, closes every check and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const closed: string[] = [];
    let aborted = false;
    const s = new CheckScheduler(
      [
        fakeCheck(
          'long',
          async (signal) => {
            signal.addEventListener('abort', () => (aborted = true));
            await work(5000, signal);
            return { status: 'pass' };
          },
          { intervalMs: 20, timeoutMs: 10_000, close: async () => void closed.push('long') },
        ),
        fakeCheck('quick', async () => ({ status: 'pass' }), {
          intervalMs: 20,
          close: async () => {
            closed.push('quick');
            throw new Error('close failed');
          },
        }),
      ],
      { stopTimeoutMs: 1000, onError: (_e, ctx) => closed.push(`error: ${ctx}`) },
    );
    s.start();
    await sleep(100);
    const t0 = performance.now();
    await s.stop();
    expect(performance.now() - t0).toBeLessThan(500);
    expect(aborted).toBe(true);
    expect(closed.sort()).toEqual(['error: close() of "quick"', 'long', 'quick']);
    // The aborted run is not recorded as a failure of the dependency.
    expect(s.result('long')!.message).toBe('not checked yet');
    expect(s.stats('long')!.running).toBe(false);
    expect(timers()).toBeLessThanOrEqual(before);
    const runs = s.stats('quick')!.runs;
    await sleep(80);
    expect(s.stats('quick')!.runs).toBe(runs);
    expect((await s.runNow('quick')).status).toBe('pass');
    expect(() => s.start()).toThrow(/after stop/);
  });

  it('rejects duplicate names and non-positive intervals', () => {
    const s = scheduler([fakeCheck('a', async () => ({ status: 'pass' }))]);
    expect(() => s.add(fakeCheck('a', async () => ({ status: 'pass' })))).toThrow(/duplicate/);
    expect(() => s.add(fakeCheck('b', async () => ({ status: 'pass' }), { intervalMs: 0 }))).toThrow(/intervalMs/);
  });
});
