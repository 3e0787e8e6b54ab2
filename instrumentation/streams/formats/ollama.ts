import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, key, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

const K_ERROR = key('error');
const K_PROMPT_EVAL_COUNT = key('prompt_eval_count');
const K_EVAL_COUNT = key('eval_count');
const K_CONTENT = key('content');
const K_RESPONSE = key('response');
const K_THINKING = key('thinking');
const K_TOOL_CALLS = key('tool_calls');

/**
 * Ollama's native NDJSON (`/api/chat`, `/api/generate`). Content: a non-empty `message.content`,
 * `response`, `thinking` or `tool_calls`. The last line (`"done":true`) carries the usage as
 * `prompt_eval_count` and `eval_count`.
 */
export const ollama: PayloadFormat = {
  name: 'ollama',
  classify(_event: string, data: string, facts: StreamFacts): number {
    if (valueStart(data, K_ERROR) !== -1) {
      facts.errorType = vendorErrorType(data);
      return FRAME_ERROR;
    }
    const input = intValue(data, K_PROMPT_EVAL_COUNT);
    const output = intValue(data, K_EVAL_COUNT);
    if (input >= 0) facts.inputTokens = input;
    if (output >= 0) facts.outputTokens = output;
    return hasContent(data, K_CONTENT) || hasContent(data, K_RESPONSE) || hasContent(data, K_THINKING) || hasContent(data, K_TOOL_CALLS)
      ? FRAME_CONTENT
      : FRAME_CONTROL;
  },
};
