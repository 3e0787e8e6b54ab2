import { describe, expect, it } from 'vitest';
import { KIND_AUDIO, KIND_NDJSON, KIND_NONE, KIND_SSE, streamKindOf } from '../../../instrumentation/streams/content-type';

describe('streamKindOf', () => {
  it('recognises event streams however the header is spelled', () => {
    for (const ct of ['text/event-stream', 'text/event-stream; charset=utf-8', 'text/event-stream;charset=utf-8', 'Text/Event-Stream', ' text/event-stream ', ['text/event-stream']]) {
      expect(streamKindOf(ct), JSON.stringify(ct)).toBe(KIND_SSE);
    }
  });

  it('recognises NDJSON and audio, and nothing else', () => {
    expect(streamKindOf('application/x-ndjson; charset=utf-8')).toBe(KIND_NDJSON);
    expect(streamKindOf('application/jsonl')).toBe(KIND_NDJSON);
    expect(streamKindOf('AUDIO/mpeg')).toBe(KIND_AUDIO);
    for (const ct of ['text/event-streams', 'text/html', 'application/json', '', undefined, 42, null, []]) {
      expect(streamKindOf(ct), JSON.stringify(ct)).toBe(KIND_NONE);
    }
  });
});
