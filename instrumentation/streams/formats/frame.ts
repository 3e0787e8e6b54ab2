import type { ErrorType } from '../../metrics/catalog';

/** What one event (an SSE event, an NDJSON line) of a stream carries. Bits: one event may only be one. */
export const FRAME_CONTROL = 0;
export const FRAME_CONTENT = 1;
export const FRAME_AUDIO = 2;
export const FRAME_ERROR = 4;

/**
 * What a stream said of itself besides its signals, filled by the formats as events go by: the
 * token usage it reported (-1 until reported; the last report wins, since Gemini and Anthropic
 * repeat running totals) and the class of its first error.
 */
export class StreamFacts {
  inputTokens = -1;
  outputTokens = -1;
  errorType: ErrorType | undefined;
  /** The last characters of the current event's data when it was longer than the kept prefix. */
  tail = '';
}

/**
 * One wire format: decides what an event carries. `event` is the SSE event name ('' when none)
 * or a line format's type prefix; `data` a bounded prefix of the event's data (never blank, never
 * `[DONE]`: the framing drops those first). Implementations never throw and never allocate on the
 * common path.
 */
export interface PayloadFormat {
  readonly name: string;
  classify(event: string, data: string, facts: StreamFacts): number;
}
