import { FRAME_AUDIO, FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { key, hasContent, intValue, stringValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

const K_TYPE = key('type');
const K_DELTA = key('delta');
const K_USAGE = key('usage');
const K_INPUT_TOKENS = key('input_tokens');
const K_OUTPUT_TOKENS = key('output_tokens');

/**
 * OpenAI Responses API events (`response.output_text.delta`, …), named by the SSE event field
 * and by `type` in the data. Content: any `*.delta` event with a non-empty delta (output text,
 * reasoning, refusal, function-call arguments); `response.audio.delta` is audio.
 * `response.created`, `response.in_progress`, `*.added`, `*.done` are not.
 */
export const openaiResponses: PayloadFormat = {
  name: 'openai-responses',
  classify(event: string, data: string, facts: StreamFacts): number {
    const type = event !== '' && event !== 'message' ? event : (stringValue(data, K_TYPE) ?? '');
    if (type.endsWith('.delta')) {
      if (!hasContent(data, K_DELTA)) return FRAME_CONTROL;
      return type === 'response.audio.delta' || type === 'response.output_audio.delta' ? FRAME_AUDIO : FRAME_CONTENT;
    }
    if (type === 'error' || type === 'response.failed') {
      facts.errorType = vendorErrorType(data);
      return FRAME_ERROR;
    }
    if (type === 'response.completed' || type === 'response.incomplete') {
      // The whole response comes with it; usage is near its end, so look in the kept tail first.
      readUsage(facts.tail, facts) || readUsage(data, facts);
    }
    return FRAME_CONTROL;
  },
};

function readUsage(text: string, facts: StreamFacts): boolean {
  const u = valueStart(text, K_USAGE);
  if (u === -1 || text.charCodeAt(u) !== 123) return false;
  const input = intValue(text, K_INPUT_TOKENS, u);
  const output = intValue(text, K_OUTPUT_TOKENS, u);
  if (input >= 0) facts.inputTokens = input;
  if (output >= 0) facts.outputTokens = output;
  return input >= 0 || output >= 0;
}
