import type { ModelCallReport, Recorder, RecorderListener } from '../../instrumentation/metrics/recorder';
import { ExpHistogram } from './exp-histogram';
import type { UpstreamStats } from './snapshot';

export type { UpstreamStats };

const SLOTS = 30;
/** Provider × model pairs tracked; the recorder already bounds models, this bounds the product. */
const MAX_KEYS = 64;

/** One time slice of one provider and model. */
class Slot {
  start = -Infinity;
  calls = 0;
  errors = 0;
  readonly firstChunk = new ExpHistogram();

  reset(start: number): void {
    this.start = start;
    this.calls = this.errors = 0;
    this.firstChunk.clear();
  }
}

/**
 * The model calls the app made, over the health window, by provider and model: the passive
 * upstream checks grade these (no probe traffic). Fed by the recorder's listener like the stream
 * window; memory is bounded by SLOTS × MAX_KEYS.
 */
export class UpstreamWindow implements RecorderListener {
  private readonly slotMs: number;
  private readonly keys = new Map<string, { provider: string; model: string; slots: Slot[] }>();
  private detach: (() => void) | undefined;

  constructor(
    private readonly recorder: Recorder,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.slotMs = Math.max(100, Math.ceil(windowMs / SLOTS));
  }

  attach(): this {
    this.detach ??= this.recorder.addListener(this);
    return this;
  }

  close(): void {
    this.detach?.();
    this.detach = undefined;
  }

  onModelCall(call: ModelCallReport): void {
    // The app's own cancel (the user went away) says nothing about the provider.
    if (call.errorType === 'cancelled') return;
    const key = `${call.provider}\0${call.model}`;
    let entry = this.keys.get(key);
    if (entry === undefined) {
      if (this.keys.size >= MAX_KEYS) return;
      entry = { provider: call.provider, model: call.model, slots: Array.from({ length: SLOTS + 1 }, () => new Slot()) };
      this.keys.set(key, entry);
    }
    const t = this.now();
    const start = t - (t % this.slotMs);
    const slot = entry.slots[Math.floor(start / this.slotMs) % entry.slots.length]!;
    if (slot.start !== start) slot.reset(start);
    slot.calls++;
    if (call.errorType !== undefined) slot.errors++;
    if (call.firstChunkSeconds >= 0) slot.firstChunk.record(call.firstChunkSeconds);
  }

  /** Every provider and model seen, with what the window holds for it (zeros once it went quiet). */
  stats(): UpstreamStats[] {
    const from = this.now() - this.windowMs;
    const out: UpstreamStats[] = [];
    for (const { provider, model, slots } of this.keys.values()) {
      let calls = 0;
      let errors = 0;
      const h = new ExpHistogram();
      for (const s of slots) {
        if (s.start < from) continue;
        calls += s.calls;
        errors += s.errors;
        h.merge(s.firstChunk);
      }
      out.push({ provider, model, calls, errors, firstChunks: h.count, firstChunkP95: h.quantile(0.95), firstChunkP50: h.quantile(0.5) });
    }
    return out;
  }
}
