import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

/**
 * Google Gemini `streamGenerateContent?alt=sse`: each event a `GenerateContentResponse`. Content:
 * a non-empty `candidates[].content.parts[].text` or a `functionCall`. Usage (`usageMetadata`)
 * comes as running totals; the last one wins.
 */
export const gemini: PayloadFormat = {
  name: 'gemini',
  classify(_event: string, data: string, facts: StreamFacts): number {
    const c = valueStart(data, 'candidates');
    if (c === -1 && valueStart(data, 'error') !== -1) {
      facts.errorType = vendorErrorType(data);
      return FRAME_ERROR;
    }
    const u = valueStart(data, 'usageMetadata');
    if (u !== -1) {
      const input = intValue(data, 'promptTokenCount', u);
      const output = intValue(data, 'candidatesTokenCount', u);
      const thoughts = intValue(data, 'thoughtsTokenCount', u);
      if (input >= 0) facts.inputTokens = input;
      if (output >= 0) facts.outputTokens = output + Math.max(thoughts, 0);
    }
    if (c === -1) return FRAME_CONTROL;
    return hasContent(data, 'text', c) || hasContent(data, 'functionCall', c) ? FRAME_CONTENT : FRAME_CONTROL;
  },
};
