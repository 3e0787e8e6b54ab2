/**
 * Each model API format as its public reference writes it (test/fixtures/stacks/wire.js names the
 * references): the first content is the first event carrying generated output, never a control
 * event before it; every content event is counted; the usage the stream reports is read.
 */
import { describe, expect, it } from 'vitest';
import { FRAME_AUDIO, FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, StreamFacts } from '../../../../instrumentation/streams/formats/frame';
import { openaiChat } from '../../../../instrumentation/streams/formats/openai-chat';
import { openaiResponses } from '../../../../instrumentation/streams/formats/openai-responses';
import { anthropic } from '../../../../instrumentation/streams/formats/anthropic';
import { aiSdkUi } from '../../../../instrumentation/streams/formats/ai-sdk-ui';
import { aiSdkData } from '../../../../instrumentation/streams/formats/ai-sdk-data';
import { gemini } from '../../../../instrumentation/streams/formats/gemini';
import { ollama } from '../../../../instrumentation/streams/formats/ollama';
import { feed, texts } from './helpers';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wire = require('../../../fixtures/stacks/wire.js');

describe('whole streams, auto-detected', () => {
  const cases: [string, string[], number, number, number, 'ndjson' | 'typed' | undefined][] = [
    // name, writes, index of the first content write, input, output
    ['OpenAI chat: role chunk first', texts(wire.openaiChat(0, 0)), 1, 11, 5, undefined],
    ['OpenAI Responses: created, in_progress, added first', texts(wire.openaiResponses(0, 0)), 4, 37, 11, undefined],
    ['Anthropic: message_start, content_block_start, ping first', texts(wire.anthropic(0, 0)), 3, 25, 15, undefined],
    ['Gemini (CRLF)', texts(wire.gemini(0, 0)), 0, 8, 5, undefined],
    ['Ollama NDJSON', texts(wire.ollama(0, 0)), 0, 26, 282, 'ndjson'],
    ['AI SDK data stream', texts(wire.aiSdkData(0, 0)), 1, 10, 5, 'typed'],
  ];
  for (const [name, writes, first, input, output, lines] of cases) {
    it(name, () => {
      const r = feed(writes, { lines, format: lines === 'typed' ? aiSdkData : undefined });
      expect(r.firstContent).toBe(first);
      expect(r.content).toBe(5);
      expect(r.input).toBe(input);
      expect(r.output).toBe(output);
      expect(r.signals & FRAME_ERROR).toBe(0);
    });
  }
});

const classify = (f: { classify(e: string, d: string, facts: StreamFacts): number }, event: string, data: string, facts = new StreamFacts()) =>
  f.classify(event, data, facts);

describe('OpenAI chat chunks', () => {
  const chunk = (delta: string) => `{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":${delta},"finish_reason":null}]}`;
  it('content, tool calls, reasoning and refusals carry output; role-only, empty and null do not', () => {
    expect(classify(openaiChat, '', chunk('{"content":"Hi"}'))).toBe(FRAME_CONTENT);
    expect(classify(openaiChat, '', chunk('{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}'))).toBe(FRAME_CONTENT);
    expect(classify(openaiChat, '', chunk('{"reasoning_content":"Let me"}'))).toBe(FRAME_CONTENT);
    expect(classify(openaiChat, '', chunk('{"reasoning":"Let me"}'))).toBe(FRAME_CONTENT);
    expect(classify(openaiChat, '', chunk('{"refusal":"I can\'t"}'))).toBe(FRAME_CONTENT);
    expect(classify(openaiChat, '', chunk('{"role":"assistant"}'))).toBe(FRAME_CONTROL);
    expect(classify(openaiChat, '', chunk('{"role":"assistant","content":""}'))).toBe(FRAME_CONTROL);
    expect(classify(openaiChat, '', chunk('{"content":null,"tool_calls":[]}'))).toBe(FRAME_CONTROL);
    expect(classify(openaiChat, '', chunk('{}'))).toBe(FRAME_CONTROL);
    // Python's json.dumps spacing, as many proxies write it.
    expect(classify(openaiChat, '', '{"choices": [{"delta": {"content": "Hi"}}]}')).toBe(FRAME_CONTENT);
    expect(classify(openaiChat, '', '{"choices": [{"delta": {"content": ""}}]}')).toBe(FRAME_CONTROL);
  });
  it('text that looks like a key inside content is not read as one', () => {
    expect(classify(openaiChat, '', chunk('{"content":"\\"content\\":\\"x"}'))).toBe(FRAME_CONTENT);
    expect(classify(openaiChat, '', chunk('{"role":"assistant","content":"","x":"\\"tool_calls\\": [1]"}'))).toBe(FRAME_CONTROL);
  });
  it('a usage-only chunk is control and reports usage; an error payload is an llm error', () => {
    const facts = new StreamFacts();
    expect(classify(openaiChat, '', '{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}', facts)).toBe(FRAME_CONTROL);
    expect([facts.inputTokens, facts.outputTokens]).toEqual([9, 12]);
    const err = new StreamFacts();
    expect(classify(openaiChat, '', '{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}', err)).toBe(FRAME_ERROR);
    expect(err.errorType).toBe('llm');
    const timeout = new StreamFacts();
    classify(openaiChat, '', '{"error":{"message":"upstream timed out","type":"timeout"}}', timeout);
    expect(timeout.errorType).toBe('timeout');
  });
});

describe('OpenAI Responses events', () => {
  it('deltas carry output, audio deltas are audio, failures are errors', () => {
    expect(classify(openaiResponses, 'response.output_text.delta', '{"type":"response.output_text.delta","delta":"Hi"}')).toBe(FRAME_CONTENT);
    expect(classify(openaiResponses, '', '{"type":"response.reasoning_summary_text.delta","delta":"Think"}')).toBe(FRAME_CONTENT);
    expect(classify(openaiResponses, '', '{"type":"response.function_call_arguments.delta","delta":"{\\"a"}')).toBe(FRAME_CONTENT);
    expect(classify(openaiResponses, '', '{"type":"response.output_text.delta","delta":""}')).toBe(FRAME_CONTROL);
    expect(classify(openaiResponses, '', '{"type":"response.audio.delta","delta":"UklGRg=="}')).toBe(FRAME_AUDIO);
    expect(classify(openaiResponses, 'response.created', '{"type":"response.created","response":{"text":{"format":{"type":"text"}}}}')).toBe(FRAME_CONTROL);
    const f = new StreamFacts();
    expect(classify(openaiResponses, 'response.failed', '{"type":"response.failed","response":{"error":{"code":"server_error"}}}', f)).toBe(FRAME_ERROR);
    expect(f.errorType).toBe('llm');
  });
  it('usage of response.completed is read from the kept tail of a long event', () => {
    const long = `{"type":"response.completed","response":{"output":[{"content":[{"type":"output_text","text":"${'x'.repeat(5000)}"}]}],"usage":{"input_tokens":120,"output_tokens":1500,"total_tokens":1620},"user":null,"metadata":{}}}`;
    const r = feed([`event: response.created\ndata: {"type":"response.created"}\n\n`, `event: response.completed\ndata: ${long}\n\n`]);
    expect([r.input, r.output]).toEqual([120, 1500]);
    // The same event split in many writes.
    const parts = `event: response.completed\ndata: ${long}\n\n`.match(/[\s\S]{1,333}/g)!;
    const s = feed([`event: response.created\ndata: {"type":"response.created"}\n\n`, ...parts]);
    expect([s.input, s.output]).toEqual([120, 1500]);
  });
});

describe('Anthropic messages', () => {
  it('text, tool input and thinking deltas carry output; signatures and the empty first tool input do not', () => {
    expect(classify(anthropic, 'content_block_delta', '{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}')).toBe(FRAME_CONTENT);
    expect(classify(anthropic, 'content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}')).toBe(FRAME_CONTROL);
    expect(classify(anthropic, 'content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\": \\"San Fra"}}')).toBe(FRAME_CONTENT);
    expect(classify(anthropic, 'content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me solve"}}')).toBe(FRAME_CONTENT);
    expect(classify(anthropic, 'content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}')).toBe(FRAME_CONTROL);
    for (const e of ['message_start', 'content_block_start', 'ping', 'content_block_stop', 'message_delta', 'message_stop']) {
      expect(classify(anthropic, e, `{"type": "${e}"}`), e).toBe(FRAME_CONTROL);
    }
  });
  it('an error event is an llm error; cache tokens count as input', () => {
    const f = new StreamFacts();
    expect(classify(anthropic, 'error', '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}', f)).toBe(FRAME_ERROR);
    expect(f.errorType).toBe('llm');
    const u = new StreamFacts();
    classify(anthropic, 'message_start', '{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":1}}}', u);
    expect(u.inputTokens).toBe(1110);
  });
});

describe('AI SDK UI message stream parts', () => {
  it('text, reasoning and tool input deltas carry output; start, steps, data parts and tool output do not', () => {
    for (const d of ['{"type":"text-delta","id":"1","delta":"Hi"}', '{"type":"reasoning-delta","id":"r","delta":"Hmm"}', '{"type":"tool-input-delta","toolCallId":"c","inputTextDelta":"{\\""}', '{"type":"tool-input-available","toolCallId":"c","toolName":"w","input":{}}']) {
      expect(classify(aiSdkUi, '', d), d).toBe(FRAME_CONTENT);
    }
    for (const d of ['{"type":"start","messageId":"m"}', '{"type":"start-step"}', '{"type":"text-start","id":"1"}', '{"type":"text-delta","id":"1","delta":""}', '{"type":"finish-step"}', '{"type":"finish"}', '{"type":"data-weather","data":{"city":"x"}}', '{"type":"tool-output-available","toolCallId":"c","output":"sunny"}', '{"type":"source-url","sourceId":"s","url":"https://x"}']) {
      expect(classify(aiSdkUi, '', d), d).toBe(FRAME_CONTROL);
    }
  });
  it('an error part is an llm error; usage comes from message metadata', () => {
    const f = new StreamFacts();
    expect(classify(aiSdkUi, '', '{"type":"error","errorText":"Rate limit"}', f)).toBe(FRAME_ERROR);
    expect(f.errorType).toBe('llm');
    classify(aiSdkUi, '', '{"type":"finish","messageMetadata":{"usage":{"inputTokens":12,"outputTokens":5,"totalTokens":17}}}', f);
    expect([f.inputTokens, f.outputTokens]).toEqual([12, 5]);
  });
});

describe('AI SDK data stream lines, Gemini, Ollama', () => {
  it('data stream: text, reasoning and tool calls carry output; empty text, start and finish do not; 3 is an error', () => {
    expect(classify(aiSdkData, '0', '"Hi"')).toBe(FRAME_CONTENT);
    expect(classify(aiSdkData, '0', '""')).toBe(FRAME_CONTROL);
    expect(classify(aiSdkData, 'g', '"think"')).toBe(FRAME_CONTENT);
    expect(classify(aiSdkData, '9', '{"toolCallId":"c","toolName":"w","args":{}}')).toBe(FRAME_CONTENT);
    expect(classify(aiSdkData, 'f', '{"messageId":"m"}')).toBe(FRAME_CONTROL);
    expect(classify(aiSdkData, '3', '"error"')).toBe(FRAME_ERROR);
  });
  it('Gemini: non-empty text or a function call; an error body is an error', () => {
    expect(classify(gemini, '', '{"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"}}]}')).toBe(FRAME_CONTROL);
    expect(classify(gemini, '', '{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {}}}]}}]}')).toBe(FRAME_CONTENT);
    expect(classify(gemini, '', '{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}')).toBe(FRAME_ERROR);
  });
  it('Ollama: empty content with done:false (a tool-call preamble) is not output; an error line is', () => {
    expect(classify(ollama, '', '{"model":"llama3.2","message":{"role":"assistant","content":""},"done":false}')).toBe(FRAME_CONTROL);
    expect(classify(ollama, '', '{"model":"llama3.2","response":"The","done":false}')).toBe(FRAME_CONTENT);
    expect(classify(ollama, '', '{"error":"model \\"x\\" not found"}')).toBe(FRAME_ERROR);
  });
});
