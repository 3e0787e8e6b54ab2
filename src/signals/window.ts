import type { CacheResult, ErrorType, StreamOutcome } from '../../instrumentation/metrics/catalog';
import type { Recorder, RecorderListener } from '../../instrumentation/metrics/recorder';
import type { ProcessSampler } from '../../instrumentation/metrics/process-metrics';
import { ExpHistogram } from './exp-histogram';
import type { FirstTokenBreakdown, LatencyStats, SignalSnapshot } from './snapshot';
import { StreamEventLog } from './stream-events';

/** One time slice of the window. */
class Slot {
  start = -Infinity;
  readonly ttft = new ExpHistogram();
  readonly ttfa = new ExpHistogram();
  readonly complete = new ExpHistogram();
  readonly chunkGap = new ExpHistogram();
  outputStreams = 0;
  chunks = 0;
  inputTokens = 0;
  outputTokens = 0;
  usageStreams = 0;
  completed = 0;
  failed = 0;
  aborted = 0;
  requests = 0;
  serverErrors = 0;
  readonly caches = new Map<string, { hits: number; misses: number }>();
  readonly errors = new Map<string, number>();
  /** By route (bounded by the recorder's route limit): streams and the sums of their phases. */
  readonly breakdown = new Map<string, { streams: number; before: number; model: number; after: number }>();

  reset(start: number): void {
    this.start = start;
    this.ttft.clear();
    this.ttfa.clear();
    this.complete.clear();
    this.chunkGap.clear();
    this.outputStreams = this.chunks = this.inputTokens = this.outputTokens = this.usageStreams = 0;
    this.completed = this.failed = this.aborted = this.requests = this.serverErrors = 0;
    this.caches.clear();
    this.errors.clear();
    this.breakdown.clear();
  }
}

const SLOTS = 30;

function stats(h: ExpHistogram): LatencyStats {
  if (h.count === 0) return { count: 0 };
  return { count: h.count, p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99) };
}

/**
 * The health service's view of the instrumentation: a sliding window fed by the recorder's
 * listener, in SLOTS time slices that expire whole. Memory is bounded: slot count is fixed, cache
 * and error names are bounded by the recorder, and histograms hold at most a few hundred buckets.
 */
export class SlidingWindow implements RecorderListener {
  readonly events = new StreamEventLog();
  private readonly slotMs: number;
  private readonly slots: Slot[];
  private current: Slot;
  private detach: (() => void) | undefined;

  constructor(
    private readonly recorder: Recorder,
    readonly windowMs: number,
    private readonly sampler?: ProcessSampler,
    private readonly now: () => number = Date.now,
  ) {
    this.slotMs = Math.max(100, Math.ceil(windowMs / SLOTS));
    // One slot more than the window spans, so the window is always fully covered.
    this.slots = Array.from({ length: SLOTS + 1 }, () => new Slot());
    this.current = this.slots[0]!;
    this.current.reset(this.slotStart(this.now()));
  }

  attach(): this {
    this.detach ??= this.recorder.addListener(this);
    return this;
  }

  close(): void {
    this.detach?.();
    this.detach = undefined;
  }

  private slotStart(t: number): number {
    return t - (t % this.slotMs);
  }

  private slot(): Slot {
    const t = this.now();
    if (t - this.current.start < this.slotMs) return this.current;
    const start = this.slotStart(t);
    const idx = Math.floor(start / this.slotMs) % this.slots.length;
    this.current = this.slots[idx]!;
    this.current.reset(start);
    return this.current;
  }

  onStreamStart(route: string): void {
    this.events.push({ time: new Date(this.now()).toISOString(), route, event: 'start' });
  }

  onFirstToken(route: string, seconds: number): void {
    this.slot().ttft.record(seconds);
    this.events.push({ time: new Date(this.now()).toISOString(), route, event: 'first_token', seconds });
  }

  onFirstTokenBreakdown(route: string, appBefore: number, model: number, appAfter: number): void {
    const b = this.slot().breakdown;
    let r = b.get(route);
    if (r === undefined) b.set(route, (r = { streams: 0, before: 0, model: 0, after: 0 }));
    r.streams++;
    r.before += appBefore;
    r.model += model;
    r.after += appAfter;
  }

  onFirstAudio(route: string, seconds: number): void {
    this.slot().ttfa.record(seconds);
    this.events.push({ time: new Date(this.now()).toISOString(), route, event: 'first_audio', seconds });
  }

  onStreamEnd(route: string, outcome: StreamOutcome, seconds: number): void {
    const s = this.slot();
    s[outcome]++;
    if (outcome === 'completed') s.complete.record(seconds);
    this.events.push({ time: new Date(this.now()).toISOString(), route, event: 'end', outcome, seconds });
  }

  onStreamOutput(_route: string, chunks: number, secondsPerChunk: number | undefined): void {
    const s = this.slot();
    s.outputStreams++;
    s.chunks += chunks;
    if (secondsPerChunk !== undefined) s.chunkGap.record(secondsPerChunk);
  }

  onStreamTokens(_route: string, input: number, output: number): void {
    const s = this.slot();
    s.usageStreams++;
    if (input > 0) s.inputTokens += input;
    if (output > 0) s.outputTokens += output;
  }

  onHttpRequest(_method: string, _route: string, status: number): void {
    const s = this.slot();
    s.requests++;
    if (status >= 500) s.serverErrors++;
  }

  onCacheLookup(cache: string, result: CacheResult, count: number): void {
    const caches = this.slot().caches;
    let c = caches.get(cache);
    if (c === undefined) caches.set(cache, (c = { hits: 0, misses: 0 }));
    if (result === 'hit') c.hits += count;
    else c.misses += count;
  }

  onError(type: ErrorType): void {
    const errors = this.slot().errors;
    errors.set(type, (errors.get(type) ?? 0) + 1);
  }

  /** The signals over the last `windowMs`. */
  snapshot(): SignalSnapshot {
    this.slot();
    const since = this.now() - this.windowMs;
    const ttft = new ExpHistogram();
    const ttfa = new ExpHistogram();
    const complete = new ExpHistogram();
    const chunkGap = new ExpHistogram();
    const output = { streams: 0, chunks: 0, tokens: { input: 0, output: 0, streams: 0 } };
    const streams = { completed: 0, failed: 0, aborted: 0 };
    const requests = { total: 0, serverErrors: 0 };
    const caches: Record<string, { hits: number; misses: number }> = {};
    const errors: Record<string, number> = {};
    const breakdown = new Map<string, { streams: number; before: number; model: number; after: number }>();
    for (const s of this.slots) {
      // A slot belongs to the window when any part of it is inside.
      if (s.start + this.slotMs <= since) continue;
      ttft.merge(s.ttft);
      ttfa.merge(s.ttfa);
      complete.merge(s.complete);
      chunkGap.merge(s.chunkGap);
      output.streams += s.outputStreams;
      output.chunks += s.chunks;
      output.tokens.input += s.inputTokens;
      output.tokens.output += s.outputTokens;
      output.tokens.streams += s.usageStreams;
      streams.completed += s.completed;
      streams.failed += s.failed;
      streams.aborted += s.aborted;
      requests.total += s.requests;
      requests.serverErrors += s.serverErrors;
      for (const [name, c] of s.caches) {
        const t = (caches[name] ??= { hits: 0, misses: 0 });
        t.hits += c.hits;
        t.misses += c.misses;
      }
      for (const [type, n] of s.errors) errors[type] = (errors[type] ?? 0) + n;
      for (const [route, b] of s.breakdown) {
        const t = breakdown.get(route);
        if (t === undefined) breakdown.set(route, { ...b });
        else {
          t.streams += b.streams;
          t.before += b.before;
          t.model += b.model;
          t.after += b.after;
        }
      }
    }
    const firstTokenBreakdown: Record<string, FirstTokenBreakdown> = {};
    for (const [route, b] of breakdown) {
      firstTokenBreakdown[route] = { streams: b.streams, appBeforeModel: b.before / b.streams, model: b.model / b.streams, appAfterModel: b.after / b.streams };
    }
    let active = 0;
    for (const s of this.recorder.streamsActive.all()) active += s.value;
    const p = this.sampler?.read();
    return {
      windowSeconds: this.windowMs / 1000,
      timeToFirstToken: stats(ttft),
      timeToFirstAudio: stats(ttfa),
      completeResponse: stats(complete),
      streams,
      requests,
      caches,
      errors,
      activeStreams: active,
      process:
        p === undefined
          ? undefined
          : { memoryUtilization: p.memoryUtilization, cpuUtilization: p.cpuUtilization, eventLoopDelayP99: p.eventLoopDelay.p99 },
      instances: 1,
      output: { ...output, timePerChunk: stats(chunkGap) },
      firstTokenBreakdown,
    };
  }
}
