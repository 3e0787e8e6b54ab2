import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, key, stringValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

const K_TYPE = key('type');
const K_TEXT = key('text');
const K_PARTIAL_JSON = key('partial_json');
const K_THINKING = key('thinking');
const K_USAGE = key('usage');
const K_INPUT_TOKENS = key('input_tokens');
const K_CACHE_READ_INPUT_TOKENS = key('cache_read_input_tokens');
const K_CACHE_CREATION_INPUT_TOKENS = key('cache_creation_input_tokens');
const K_OUTPUT_TOKENS = key('output_tokens');

/**
 * Anthropic Messages streaming: `message_start`, `content_block_start`, `ping`, then
 * `content_block_delta` events, `content_block_stop`, `message_delta` (usage), `message_stop`.
 * Content: a `content_block_delta` with non-empty text, tool input JSON or thinking (a
 * `signature_delta` is not generated content, nor is the empty first `input_json_delta`).
 */
export const anthropic: PayloadFormat = {
  name: 'anthropic',
  classify(event: string, data: string, facts: StreamFacts): number {
    const type = event !== '' && event !== 'message' ? event : (stringValue(data, K_TYPE) ?? '');
    switch (type) {
      case 'content_block_delta':
        return hasContent(data, K_TEXT) || hasContent(data, K_PARTIAL_JSON) || hasContent(data, K_THINKING)
          ? FRAME_CONTENT
          : FRAME_CONTROL;
      case 'message_start':
      case 'message_delta':
        readUsage(data, facts);
        return FRAME_CONTROL;
      case 'error':
        facts.errorType = vendorErrorType(data);
        return FRAME_ERROR;
      default:
        return FRAME_CONTROL;
    }
  },
};

function readUsage(data: string, facts: StreamFacts): void {
  const u = valueStart(data, K_USAGE);
  if (u === -1 || data.charCodeAt(u) !== 123) return;
  const input = intValue(data, K_INPUT_TOKENS, u);
  // Cache reads and writes are input the model processed too (the GenAI conventions count them).
  if (input >= 0) {
    const read = intValue(data, K_CACHE_READ_INPUT_TOKENS, u);
    const created = intValue(data, K_CACHE_CREATION_INPUT_TOKENS, u);
    facts.inputTokens = input + Math.max(read, 0) + Math.max(created, 0);
  }
  const output = intValue(data, K_OUTPUT_TOKENS, u);
  if (output >= 0) facts.outputTokens = output;
}
