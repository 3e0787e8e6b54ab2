import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { hasContent, key, stringValue } from './json-scan';
import { readUsage } from './usage';
import { vendorErrorType } from './vendor-error';

const K_TYPE = key('type');
const K_DELTA = key('delta');
const K_INPUTTEXTDELTA = key('inputTextDelta');

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
        // Usage reaches the UI stream only as message metadata the app attaches.
        readUsage(data, facts);
        return FRAME_CONTROL;
      default:
        return FRAME_CONTROL;
    }
  },
};

