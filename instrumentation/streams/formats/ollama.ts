import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

/**
 * Ollama's native NDJSON (`/api/chat`, `/api/generate`). Content: a non-empty `message.content`,
 * `response`, `thinking` or `tool_calls`. The last line (`"done":true`) carries the usage as
 * `prompt_eval_count` and `eval_count`.
 */
export const ollama: PayloadFormat = {
  name: 'ollama',
  classify(_event: string, data: string, facts: StreamFacts): number {
    if (valueStart(data, 'error') !== -1) {
      facts.errorType = vendorErrorType(data);
      return FRAME_ERROR;
    }
    const input = intValue(data, 'prompt_eval_count');
    const output = intValue(data, 'eval_count');
    if (input >= 0) facts.inputTokens = input;
    if (output >= 0) facts.outputTokens = output;
    return hasContent(data, 'content') || hasContent(data, 'response') || hasContent(data, 'thinking') || hasContent(data, 'tool_calls')
      ? FRAME_CONTENT
      : FRAME_CONTROL;
  },
};
