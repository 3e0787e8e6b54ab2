import { describe, expect, it } from 'vitest';
import { recordCacheLookup, recordError, startStream } from '../../../index';
import { globalRecorder } from '../../../instrumentation/runtime';
import { MetricsView, sleep } from '../../helpers/metrics';

describe('manual API', () => {
  const view = new MetricsView(globalRecorder());

  it('tracks a manual stream: first token, first audio, end with outcome, idempotent', async () => {
    const s = startStream({ route: '/ws/chat' });
    expect(view.value('chatbot.streams.active', { 'http.route': '/ws/chat' })).toBe(1);
    await sleep(60);
    s.firstToken();
    s.firstToken();
    await sleep(40);
    s.firstAudio();
    s.end('aborted');
    s.end('completed');
    expect(view.value('chatbot.streams.active', { 'http.route': '/ws/chat' })).toBe(0);
    expect(view.value('chatbot.streams', { 'http.route': '/ws/chat', 'chatbot.stream.outcome': 'aborted' })).toBe(1);
    expect(view.value('chatbot.streams', { 'http.route': '/ws/chat', 'chatbot.stream.outcome': 'completed' })).toBe(0);
    const ttft = view.histogram('chatbot.stream.time_to_first_token', { 'http.route': '/ws/chat' });
    expect(ttft.count).toBe(1);
    expect(ttft.sum).toBeGreaterThanOrEqual(0.058);
    expect(ttft.sum).toBeLessThan(0.1);
    expect(view.histogram('chatbot.stream.time_to_first_audio', { 'http.route': '/ws/chat' }).sum).toBeGreaterThanOrEqual(0.098);
  });

  it('records cache lookups and errors, never throwing on bad input', () => {
    recordCacheLookup('embeddings', true);
    recordCacheLookup('embeddings', 'miss', 3);
    recordCacheLookup('embeddings', 'hit', -1);
    recordCacheLookup('' as string, 'hit');
    recordError('LLM');
    recordError(42 as unknown as string);
    expect(view.value('chatbot.cache.lookups', { 'chatbot.cache.name': 'embeddings', 'chatbot.cache.result': 'hit' })).toBe(1);
    expect(view.value('chatbot.cache.lookups', { 'chatbot.cache.name': 'embeddings', 'chatbot.cache.result': 'miss' })).toBe(3);
    expect(view.value('chatbot.errors', { 'error.type': 'llm' })).toBe(1);
    expect(view.value('chatbot.errors', { 'error.type': 'other' })).toBe(1);
  });

  it('ends a stream whose handle was dropped without end(), so the active count cannot leak', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'vitest runs with --expose-gc').toBeTypeOf('function');
    (() => {
      startStream({ route: '/leak' });
    })();
    for (let i = 0; i < 20 && view.value('chatbot.streams.active', { 'http.route': '/leak' }) !== 0; i++) {
      gc!();
      await sleep(20);
    }
    expect(view.value('chatbot.streams.active', { 'http.route': '/leak' })).toBe(0);
    expect(view.value('chatbot.streams', { 'http.route': '/leak', 'chatbot.stream.outcome': 'failed' })).toBe(1);
  });
});
