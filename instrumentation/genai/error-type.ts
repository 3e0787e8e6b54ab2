import { GENAI_OVERFLOW } from '../metrics/catalog';
import { key, stringValue, valueStart } from '../streams/formats/json-scan';

const K_ERROR = key('error');
const K_TYPE = key('type');
const K_CODE = key('code');

/** An identifier fit for a label: the vendors' error types and Node's error codes look like this. */
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.]{0,47}$/;

/**
 * `error.type` of a model call, low-cardinality as the conventions ask:
 *  - an HTTP error status: the code (`429`, `500`);
 *  - an error the API sent inside its stream: the vendor's type (`overloaded_error`, `server_error`);
 *  - a transport failure: Node's code (`UND_ERR_SOCKET` for a stream cut mid-way, `ECONNREFUSED`, …);
 *  - the app's own abort: `cancelled`; a timeout signal: `timeout`;
 *  - anything else: `_OTHER`.
 */
export function statusErrorType(status: number): string {
  return String(status);
}

/** The vendor's error type from an in-stream error event's data (a bounded prefix). */
export function streamErrorType(data: string | undefined): string {
  if (data === undefined) return GENAI_OVERFLOW;
  const e = valueStart(data, K_ERROR);
  const t = (e !== -1 ? (stringValue(data, K_TYPE, e) ?? stringValue(data, K_CODE, e)) : undefined) ?? stringValue(data, K_CODE);
  return t !== undefined && IDENTIFIER.test(t) && t !== 'error' ? t : 'stream_error';
}

export function thrownErrorType(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown; name?: unknown } } | null;
  if (e === null || typeof e !== 'object') return GENAI_OVERFLOW;
  if (e.name === 'AbortError') return 'cancelled';
  if (e.name === 'TimeoutError') return 'timeout';
  for (const code of [e.cause?.code, e.code]) {
    if (typeof code === 'string' && IDENTIFIER.test(code)) return code;
  }
  if (e.cause?.name === 'AbortError') return 'cancelled';
  return GENAI_OVERFLOW;
}
