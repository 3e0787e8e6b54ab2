import { FRAME_AUDIO, FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, stringValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

/**
 * OpenAI Responses API events (`response.output_text.delta`, …), named by the SSE event field
 * and by `type` in the data. Content: any `*.delta` event with a non-empty delta (output text,
 * reasoning, refusal, function-call arguments); `response.audio.delta` is audio.
 * `response.created`, `response.in_progress`, `*.added`, `*.done` are not.
 */
export const openaiResponses: PayloadFormat = {
  name: 'openai-responses',
  classify(event: string, data: string, facts: StreamFacts): number {
    const type = event !== '' && event !== 'message' ? event : (stringValue(data, 'type') ?? '');
    if (type.endsWith('.delta')) {
      if (!hasContent(data, 'delta')) return FRAME_CONTROL;
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
  const u = valueStart(text, 'usage');
  if (u === -1 || text.charCodeAt(u) !== 123) return false;
  const input = intValue(text, 'input_tokens', u);
  const output = intValue(text, 'output_tokens', u);
  if (input >= 0) facts.inputTokens = input;
  if (output >= 0) facts.outputTokens = output;
  return input >= 0 || output >= 0;
}
