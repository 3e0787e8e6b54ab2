import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { key, intValue, valueStart } from './json-scan';
import { vendorErrorType } from './vendor-error';

const K_USAGE = key('usage');
const K_PROMPTTOKENS = key('promptTokens');
const K_COMPLETIONTOKENS = key('completionTokens');

/**
 * The Vercel AI SDK data stream protocol (`x-vercel-ai-data-stream: v1`, AI SDK 3.x/4.x): lines
 * `TYPE:JSON`. Content: `0` text, `g` reasoning, `b`/`c`/`9` tool calls (streamed or whole).
 * `f` (start step), `e`/`d` (finish step and message, with usage), `2` and `8` (data, annotations)
 * are not; `3` is an error.
 */
export const aiSdkData: PayloadFormat = {
  name: 'ai-sdk-data',
  classify(event: string, data: string, facts: StreamFacts): number {
    switch (event) {
      case '0':
      case 'g':
        // A JSON string: `""` is empty.
        return data.length > 2 ? FRAME_CONTENT : FRAME_CONTROL;
      case 'c':
      case '9':
        return FRAME_CONTENT;
      case '3':
        facts.errorType = vendorErrorType(data);
        return FRAME_ERROR;
      case 'd':
      case 'e': {
        const u = valueStart(data, K_USAGE);
        if (u !== -1 && data.charCodeAt(u) === 123) {
          const input = intValue(data, K_PROMPTTOKENS, u);
          const output = intValue(data, K_COMPLETIONTOKENS, u);
          if (input >= 0) facts.inputTokens = input;
          if (output >= 0) facts.outputTokens = output;
        }
        return FRAME_CONTROL;
      }
      default:
        return FRAME_CONTROL;
    }
  },
};
