/**
 * Streams of no known model API: every data event is content unless it names itself a control
 * event, as the frameworks in front of the model send them; and the overrides for house formats.
 */
import { describe, expect, it } from 'vitest';
import { FRAME_ERROR } from '../../../../instrumentation/streams/formats/frame';
import { feed } from './helpers';

const ev = (data: string, name?: string) => `${name ? `event: ${name}\n` : ''}data: ${data}\n\n`;

describe('generic SSE', () => {
  it('control events by name or by type/event field come before the first token and are not it', () => {
    const r = feed([
      ev('{"run_id":"1f0c"}', 'metadata'),
      ev('{"type":"start","messageId":"m1"}'),
      ev('{"event":"workflow_started","task_id":"t"}'),
      ev('{"status":"thinking"}', 'status'),
      ': keepalive\n\n',
      ev('{"token":"Hi"}'),
      ev('{"type":"token","content":" there"}'),
      ev('{"event":"message","answer":"!"}'),
      ev('{"type":"done"}'),
      ev('[DONE]'),
    ]);
    expect(r.firstContent).toBe(5);
    expect(r.content).toBe(3);
  });
  it('a JSON error payload is an error, classified like an error event', () => {
    const r = feed([ev('{"type":"error","error":{"type":"tts","message":"voice down"}}')]);
    expect(r.signals & FRAME_ERROR).toBe(FRAME_ERROR);
    expect(r.errorType).toBe('tts');
  });
  it('usage in a control event (by name or by type) is read under the model APIs\' spellings', () => {
    const named = feed([ev('{"token":"Hi"}'), ev('{"messageId":7,"usage":{"prompt_tokens":31,"completion_tokens":2}}', 'done')]);
    expect([named.content, named.input, named.output]).toEqual([1, 31, 2]);
    const typed = feed([ev('{"token":"Hi"}'), ev('{"type":"finish","usage":{"inputTokens":5,"outputTokens":1}}')]);
    expect([typed.input, typed.output]).toEqual([5, 1]);
    const lines = feed(['{"token":"Hi"}\n', '{"type":"done","usage":{"input_tokens":8,"output_tokens":3}}\n'], { lines: 'ndjson' });
    expect([lines.content, lines.input, lines.output]).toEqual([1, 8, 3]);
  });
  it('plain text data is content (today\'s behaviour for hand-written SSE)', () => {
    expect(feed([ev('Hello')]).content).toBe(1);
  });
});

describe('overrides', () => {
  it('CHATPULSE_SSE_TOKEN_EVENTS: only those events carry tokens (message = unnamed)', () => {
    const writes = [ev('{"progress":1}', 'progress'), ev('{"x":1}'), ev('{"t":"Hi"}', 'token'), ev('{"t":"!"}', 'token')];
    const r = feed(writes, { env: { CHATPULSE_SSE_TOKEN_EVENTS: 'token' } });
    expect([r.firstContent, r.content]).toEqual([2, 2]);
    const withUnnamed = feed(writes, { env: { CHATPULSE_SSE_TOKEN_EVENTS: 'token,message' } });
    expect([withUnnamed.firstContent, withUnnamed.content]).toEqual([1, 3]);
  });
  it('CHATPULSE_TOKEN_FIELD: the named field must carry something', () => {
    const writes = [ev('{"kind":"chunk","payload":{"text":""}}'), ev('{"kind":"chunk","payload":{"meta":1}}'), ev('{"kind":"chunk","payload":{"text":"Hi"}}')];
    const r = feed(writes, { env: { CHATPULSE_TOKEN_FIELD: 'payload.text' } });
    expect([r.firstContent, r.content]).toEqual([2, 1]);
    const idx = feed([ev('{"choices":[{"delta":{"content":""}}]}'), ev('{"choices":[{"delta":{"content":"x"}}]}')], { env: { CHATPULSE_TOKEN_FIELD: 'choices.0.delta.content' } });
    expect(idx.firstContent).toBe(1);
  });
  it('CHATPULSE_STREAM_FORMAT forces a format: an OpenAI stream read as Anthropic has no token', () => {
    const openai = ev('{"choices":[{"delta":{"content":"Hi"}}]}');
    expect(feed([openai]).content).toBe(1);
    expect(feed([openai], { env: { CHATPULSE_STREAM_FORMAT: 'anthropic' } }).content).toBe(0);
    expect(feed([ev('{"type":"start"}')], { env: { CHATPULSE_STREAM_FORMAT: 'generic', CHATPULSE_SSE_IGNORE_EVENTS: '' } }).content).toBe(1);
  });
});

describe('generic SSE, a running stream', () => {
  // After the first token a generic stream's string writes are tested with one regular expression
  // (GENERIC_CONTENT_EVENT); Buffers always take the full parse. Both must count the same.
  const first = ev('{"token":"Hi"}');
  const tricky = [
    ev('{"token":" there"}'),
    'data:{"token":"x"}\n\n',
    'data:  [DONE]\n\n',
    'data: [DONE]\n\n',
    'data:[DONE]\n\n',
    'data: \n\n',
    'data:\t \n\n',
    `data:${' '.repeat(20)}\n\n`,
    `data: \t${' '.repeat(20)}x\n\n`,
    'data: [DONE] \n\n',
    'data: hi\n\n',
    'data:\n\n',
    'data: plain text, no JSON\n\n',
    ev('{"type":"done","usage":{"prompt_tokens":3,"completion_tokens":5}}'),
    ev('{"a":1, "type" : "start"}'),
    ev('{"event":"workflow_finished"}'),
    ev('{"type":"token","content":"x"}'),
    ev('{"text":"the \\"type\\" of it"}'),
    ev('{"type":"error","error":{"type":"llm"}}'),
    'data: {"token":"a"}\r\n\r\n',
    'data: {"token":"a\nb"}\n\n',
    'data: {"token":"a"}\ndata: {"token":"b"}\n\n',
    'event: audio\ndata: {"b64":"AAAA"}\n\n',
    `data: ${JSON.stringify({ token: 'y'.repeat(300) })}\n\n`,
    'id: 7\ndata: {"token":"z"}\n\n',
  ];
  it.each(tricky.map((t) => [JSON.stringify(t), t]))('%s counts as the full parse counts it', (_name, chunk) => {
    const asString = feed([first, chunk, chunk]);
    const asBuffer = feed([first, chunk, chunk].map((c) => Buffer.from(c)));
    expect(asString).toEqual(asBuffer);
  });
});
