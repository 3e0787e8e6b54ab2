import { FRAME_AUDIO, FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, key, stringValue } from './json-scan';
import { readUsage } from './usage';
import { vendorErrorType } from './vendor-error';

const K_TYPE = key('type');
const K_DELTA = key('delta');

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

