/**
 * The HTTP hook's per-response state, keyed by the response object.
 *
 * A WeakMap rather than a symbol property on `res`: Express re-prototypes every response, so V8
 * copies the response's property descriptors into a new hidden class per request, and one more
 * property lengthens that copy; every read of it from the hook is then a megamorphic keyed load.
 * Measured with callgrind (bench/instructions.js): ~6,000 instructions per request for the
 * property, ~1,200 for the map. Kept on globalThis so that two copies of the package (CJS
 * and ESM) share it.
 */
export interface ResponseStateFlags {
  /** Set by untrackResponse(): Chatpulse's own event streams are not chatbot streams. */
  untracked: boolean;
}

const kStates = Symbol.for('chatpulse.http.response-states');
type Globals = typeof globalThis & { [kStates]?: WeakMap<object, ResponseStateFlags> };

export const responseStates: WeakMap<object, ResponseStateFlags> = ((globalThis as Globals)[kStates] ??= new WeakMap());
