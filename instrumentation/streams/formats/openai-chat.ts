import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { key, hasContent, intValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

const K_DELTA = key('delta');
const K_ERROR = key('error');
const K_CONTENT = key('content');
const K_TOOL_CALLS = key('tool_calls');
const K_REASONING_CONTENT = key('reasoning_content');
const K_REASONING = key('reasoning');
const K_REFUSAL = key('refusal');
const K_USAGE = key('usage');
const K_PROMPT_TOKENS = key('prompt_tokens');
const K_COMPLETION_TOKENS = key('completion_tokens');

/**
 * OpenAI Chat Completions chunks (`chat.completion.chunk`), as OpenAI, vLLM, Ollama's `/v1`,
 * LiteLLM and most proxies write them. Content: a non-empty `delta.content`, `delta.tool_calls`,
 * a reasoning delta (`reasoning_content`, `reasoning`) or a refusal. The role-only first chunk,
 * empty content and the usage-only last chunk (`choices: []`) are not.
 */
export const openaiChat: PayloadFormat = {
  name: 'openai-chat',
  classify(_event: string, data: string, facts: StreamFacts): number {
    const delta = valueStart(data, K_DELTA);
    if (delta === -1) {
      if (valueStart(data, K_ERROR) !== -1) {
        facts.errorType = vendorErrorType(data);
        return FRAME_ERROR;
      }
      readUsage(data, facts);
      return FRAME_CONTROL;
    }
    const carries =
      hasContent(data, K_CONTENT, delta) ||
      hasContent(data, K_TOOL_CALLS, delta) ||
      hasContent(data, K_REASONING_CONTENT, delta) ||
      hasContent(data, K_REASONING, delta) ||
      hasContent(data, K_REFUSAL, delta);
    if (carries) return FRAME_CONTENT;
    // Usage comes in a chunk of its own (`choices: []`, or a final chunk with an empty delta).
    readUsage(data, facts);
    return FRAME_CONTROL;
  },
};

/** With `stream_options.include_usage` every chunk carries `"usage":null`; only an object counts. */
function readUsage(data: string, facts: StreamFacts): void {
  const u = valueStart(data, K_USAGE);
  if (u === -1 || data.charCodeAt(u) !== 123 /* { */) return;
  const input = intValue(data, K_PROMPT_TOKENS, u);
  const output = intValue(data, K_COMPLETION_TOKENS, u);
  if (input >= 0) facts.inputTokens = input;
  if (output >= 0) facts.outputTokens = output;
}
