import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

/**
 * OpenAI Chat Completions chunks (`chat.completion.chunk`), as OpenAI, vLLM, Ollama's `/v1`,
 * LiteLLM and most proxies write them. Content: a non-empty `delta.content`, `delta.tool_calls`,
 * a reasoning delta (`reasoning_content`, `reasoning`) or a refusal. The role-only first chunk,
 * empty content and the usage-only last chunk (`choices: []`) are not.
 */
export const openaiChat: PayloadFormat = {
  name: 'openai-chat',
  classify(_event: string, data: string, facts: StreamFacts): number {
    const delta = valueStart(data, 'delta');
    if (delta === -1) {
      if (valueStart(data, 'error') !== -1) {
        facts.errorType = vendorErrorType(data);
        return FRAME_ERROR;
      }
      readUsage(data, facts);
      return FRAME_CONTROL;
    }
    const carries =
      hasContent(data, 'content', delta) ||
      hasContent(data, 'tool_calls', delta) ||
      hasContent(data, 'reasoning_content', delta) ||
      hasContent(data, 'reasoning', delta) ||
      hasContent(data, 'refusal', delta);
    // With `stream_options.include_usage` every chunk carries `"usage":null`; only an object counts.
    readUsage(data, facts);
    return carries ? FRAME_CONTENT : FRAME_CONTROL;
  },
};

function readUsage(data: string, facts: StreamFacts): void {
  const u = valueStart(data, 'usage');
  if (u === -1 || data.charCodeAt(u) !== 123 /* { */) return;
  const input = intValue(data, 'prompt_tokens', u);
  const output = intValue(data, 'completion_tokens', u);
  if (input >= 0) facts.inputTokens = input;
  if (output >= 0) facts.outputTokens = output;
}
