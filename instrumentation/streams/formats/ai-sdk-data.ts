import { FRAME_CONTENT, FRAME_CONTROL, FRAME_ERROR, type PayloadFormat, type StreamFacts } from './frame';
import { readUsage } from './usage';
import { vendorErrorType } from './vendor-error';


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
      case 'e':
        readUsage(data, facts);
        return FRAME_CONTROL;
      default:
        return FRAME_CONTROL;
    }
  },
};
