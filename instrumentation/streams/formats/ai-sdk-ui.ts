import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { key, hasContent, intValue, stringValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

const K_TYPE = key('type');
const K_DELTA = key('delta');
const K_INPUTTEXTDELTA = key('inputTextDelta');
const K_MESSAGEMETADATA = key('messageMetadata');
const K_INPUTTOKENS = key('inputTokens');
const K_PROMPTTOKENS = key('promptTokens');
const K_OUTPUTTOKENS = key('outputTokens');
const K_COMPLETIONTOKENS = key('completionTokens');

/**
 * The Vercel AI SDK UI message stream (v5 and v6; header `x-vercel-ai-ui-message-stream: v1`):
 * SSE `data:` parts typed by `type`. Content: `text-delta`, `reasoning-delta`, `tool-input-delta`,
 * and `tool-input-available` (a tool call whose input was not streamed). `start`, `start-step`,
 * `text-start`, `finish-step`, `finish`, `data-*`, sources and tool outputs are not.
 */
export const aiSdkUi: PayloadFormat = {
  name: 'ai-sdk-ui',
  classify(_event: string, data: string, facts: StreamFacts): number {
    const type = stringValue(data, K_TYPE);
    switch (type) {
      case 'text-delta':
      case 'reasoning-delta':
        return hasContent(data, K_DELTA) ? FRAME_CONTENT : FRAME_CONTROL;
      case 'tool-input-delta':
        return hasContent(data, K_INPUTTEXTDELTA) ? FRAME_CONTENT : FRAME_CONTROL;
      case 'tool-input-available':
        return FRAME_CONTENT;
      case 'error':
        facts.errorType = vendorErrorType(data);
        return FRAME_ERROR;
      case 'finish':
      case 'message-metadata':
        readUsage(data, facts);
        return FRAME_CONTROL;
      default:
        return FRAME_CONTROL;
    }
  },
};

/** Usage reaches the UI stream only as message metadata the app attaches (`messageMetadata`). */
function readUsage(data: string, facts: StreamFacts): void {
  const m = valueStart(data, K_MESSAGEMETADATA);
  if (m === -1 || data.charCodeAt(m) !== 123) return;
  const input = Math.max(intValue(data, K_INPUTTOKENS, m), intValue(data, K_PROMPTTOKENS, m));
  const output = Math.max(intValue(data, K_OUTPUTTOKENS, m), intValue(data, K_COMPLETIONTOKENS, m));
  if (input >= 0) facts.inputTokens = input;
  if (output >= 0) facts.outputTokens = output;
}
