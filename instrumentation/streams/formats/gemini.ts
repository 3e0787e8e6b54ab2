import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, intValue, key, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

const K_CANDIDATES = key('candidates');
const K_ERROR = key('error');
const K_USAGEMETADATA = key('usageMetadata');
const K_PROMPTTOKENCOUNT = key('promptTokenCount');
const K_CANDIDATESTOKENCOUNT = key('candidatesTokenCount');
const K_THOUGHTSTOKENCOUNT = key('thoughtsTokenCount');
const K_TEXT = key('text');
const K_FUNCTIONCALL = key('functionCall');

/**
 * Google Gemini `streamGenerateContent?alt=sse`: each event a `GenerateContentResponse`. Content:
 * a non-empty `candidates[].content.parts[].text` or a `functionCall`. Usage (`usageMetadata`)
 * comes as running totals; the last one wins.
 */
export const gemini: PayloadFormat = {
  name: 'gemini',
  classify(_event: string, data: string, facts: StreamFacts): number {
    const c = valueStart(data, K_CANDIDATES);
    if (c === -1 && valueStart(data, K_ERROR) !== -1) {
      facts.errorType = vendorErrorType(data);
      return FRAME_ERROR;
    }
    const u = valueStart(data, K_USAGEMETADATA);
    if (u !== -1) {
      const input = intValue(data, K_PROMPTTOKENCOUNT, u);
      const output = intValue(data, K_CANDIDATESTOKENCOUNT, u);
      const thoughts = intValue(data, K_THOUGHTSTOKENCOUNT, u);
      if (input >= 0) facts.inputTokens = input;
      if (output >= 0) facts.outputTokens = output + Math.max(thoughts, 0);
    }
    if (c === -1) return FRAME_CONTROL;
    return hasContent(data, K_TEXT, c) || hasContent(data, K_FUNCTIONCALL, c) ? FRAME_CONTENT : FRAME_CONTROL;
  },
};
