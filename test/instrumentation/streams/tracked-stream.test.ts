/**
 * A tracked stream's first token and the first-token breakdown: the split around the model call
 * its request waited for (genai/request-link.ts), from the times the link holds, recorded once.
 * Times are given, not measured: `performance.now()` values in ms.
 */
import { describe, expect, it } from 'vitest';
import { FirstTokenLink } from '../../../instrumentation/genai/request-link';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { TrackedStream } from '../../../instrumentation/streams/tracked-stream';

function phases(r: Recorder): Record<string, { count: number; sum: number }> {
  const out: Record<string, { count: number; sum: number }> = {};
  for (const s of r.timeToFirstTokenBreakdown.all()) out[String(s.attributes['chatbot.phase'])] = { count: s.value.count, sum: s.value.sum };
  return out;
}

describe('TrackedStream and the first-token breakdown', () => {
  it('splits the first token around the call: app before, model, app after', () => {
    const r = new Recorder();
    const link = new FirstTokenLink();
    const stream = new TrackedStream(r, r.route('/chat'), 1000, link);
    link.modelFirstChunk(1100, 1300);
    stream.content(1350, 1);
    const p = phases(r);
    expect(p.app_before_model).toEqual({ count: 1, sum: expect.closeTo(0.1, 10) as number });
    expect(p.model).toEqual({ count: 1, sum: expect.closeTo(0.2, 10) as number });
    expect(p.app_after_model).toEqual({ count: 1, sum: expect.closeTo(0.05, 10) as number });
    // Later chunks and later calls change nothing: the split is the first token's.
    link.modelFirstChunk(1400, 1500);
    stream.content(1600, 1);
    expect(phases(r).model!.count).toBe(1);
    expect(link.settled).toBe(true);
  });

  it('the last call whose first chunk came before the token counts', () => {
    const r = new Recorder();
    const link = new FirstTokenLink();
    const stream = new TrackedStream(r, r.route('/chat'), 0, link);
    link.modelFirstChunk(10, 50); // a tool call's round trip
    link.modelFirstChunk(60, 260); // the answer
    stream.content(300, 1);
    const p = phases(r);
    expect(p.app_before_model!.sum).toBeCloseTo(0.06, 10);
    expect(p.model!.sum).toBeCloseTo(0.2, 10);
    expect(p.app_after_model!.sum).toBeCloseTo(0.04, 10);
  });

  it('records no breakdown without a model chunk before the first token, or without a link', () => {
    const r = new Recorder();
    const link = new FirstTokenLink();
    new TrackedStream(r, r.route('/early'), 0, link).content(100, 1);
    link.modelFirstChunk(50, 200);
    new TrackedStream(r, r.route('/plain'), 0).content(100, 1);
    expect(phases(r)).toEqual({});
    // Both first tokens were recorded all the same.
    let ttft = 0;
    for (const s of r.timeToFirstToken.all()) ttft += s.value.count;
    expect(ttft).toBe(2);
  });
});
