import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, stringValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

/**
 * Anthropic Messages streaming: `message_start`, `content_block_start`, `ping`, then
 * `content_block_delta` events, `content_block_stop`, `message_delta` (usage), `message_stop`.
 * Content: a `content_block_delta` with non-empty text, tool input JSON or thinking (a
 * `signature_delta` is not generated content, nor is the empty first `input_json_delta`).
 */
export const anthropic: PayloadFormat = {
  name: 'anthropic',
  classify(event: string, data: string, facts: StreamFacts): number {
    const type = event !== '' && event !== 'message' ? event : (stringValue(data, 'type') ?? '');
    switch (type) {
      case 'content_block_delta':
        return hasContent(data, 'text') || hasContent(data, 'partial_json') || hasContent(data, 'thinking')
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
  const u = valueStart(data, 'usage');
  if (u === -1 || data.charCodeAt(u) !== 123) return;
  const input = intValue(data, 'input_tokens', u);
  // Cache reads and writes are input the model processed too (the GenAI conventions count them).
  if (input >= 0) {
    const read = intValue(data, 'cache_read_input_tokens', u);
    const created = intValue(data, 'cache_creation_input_tokens', u);
    facts.inputTokens = input + Math.max(read, 0) + Math.max(created, 0);
  }
  const output = intValue(data, 'output_tokens', u);
  if (output >= 0) facts.outputTokens = output;
}
