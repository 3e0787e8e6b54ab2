import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What links a request's stream to the model call it waited for, for the first-token breakdown:
 * the HTTP hook makes one per request and enters it into the request's async context; a model
 * call started in that context (fetch hook) finds it and, at its first output chunk, notes when
 * it started and when that chunk came. At the stream's first token (TrackedStream) the time from
 * request arrival splits in three: the app before the call, the model to its first chunk, and
 * the app after it to the first token written. With several streamed calls, the last whose first
 * chunk came before the stream's first token counts (a tool call's round trip before it is then
 * part of the app's time before the model).
 */
export class FirstTokenLink {
  /** `performance.now()` when the counted call started (-1: none yet). */
  callStartedAt = -1;
  /** `performance.now()` of that call's first output chunk. */
  firstChunkAt = -1;
  /** The stream's first token left: later calls no longer move the split. */
  settled = false;

  modelFirstChunk(callStartedAt: number, at: number): void {
    if (this.settled) return;
    this.callStartedAt = callStartedAt;
    this.firstChunkAt = at;
  }
}

const kLinks = Symbol.for('chatpulse.genai.request-links');
type Globals = typeof globalThis & { [kLinks]?: AsyncLocalStorage<FirstTokenLink> };

/** The request's link in its async context; on globalThis so two copies of the package (CJS and ESM) share it. */
export const requestLinks: AsyncLocalStorage<FirstTokenLink> = ((globalThis as Globals)[kLinks] ??= new AsyncLocalStorage<FirstTokenLink>());
