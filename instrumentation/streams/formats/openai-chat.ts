import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, key, valueStart } from './json-scan';
import { readUsage } from './usage';
import { vendorErrorType } from './vendor-error';

const K_DELTA = key('delta');
const K_ERROR = key('error');
const K_CONTENT = key('content');
const K_TOOL_CALLS = key('tool_calls');
const K_REASONING_CONTENT = key('reasoning_content');
const K_REASONING = key('reasoning');
const K_REFUSAL = key('refusal');

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
    // Usage comes in a chunk of its own (`choices: []`, or a final chunk with an empty delta); with
    // `stream_options.include_usage` every other chunk carries `"usage":null`, which is skipped.
    readUsage(data, facts);
    return FRAME_CONTROL;
  },
};

