/**
 * Small pure helpers that read a field of a JSON text without parsing it. The stream parsers keep
 * only a bounded prefix of each event, so a full `JSON.parse` would fail on long events and cost
 * ~1 µs per event on short ones; these scans cost a native `indexOf`.
 *
 * Why a key search is safe: inside a JSON string every `"` is escaped, so `"content"` followed
 * by `:` can only be a key, never text the model generated.
 */

/**
 * A key as the scans take it: quoted, built once at module load. (Quoting per call made a new
 * string for every search: ~3,500 instructions per stream in StringAdd alone.)
 */
export type Key = string & { readonly __quoted: true };
export function key(name: string): Key {
  return `"${name}"` as Key;
}

/** Index of the first character of `key`'s value at or after `from`, or -1. Tolerates `"key" : value`. */
export function valueStart(text: string, quoted: Key, from = 0): number {
  let at = text.indexOf(quoted, from);
  while (at !== -1) {
    let i = at + quoted.length;
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 58 /* : */) {
      i++;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      return i < text.length ? i : -1;
    }
    at = text.indexOf(quoted, at + 1);
  }
  return -1;
}

/**
 * Whether `key` has a value that carries something: a non-empty string, a non-empty array, or an
 * object. `null`, `""`, `[]`, numbers and booleans carry nothing. A value cut off by the kept
 * prefix right after its opening quote counts as carrying (it is not empty).
 */
export function hasContent(text: string, k: Key, from = 0): boolean {
  let at = valueStart(text, k, from);
  while (at !== -1) {
    const c = text.charCodeAt(at);
    if (c === 34 /* " */) {
      if (at + 1 >= text.length || text.charCodeAt(at + 1) !== 34) return true;
    } else if (c === 91 /* [ */) {
      let i = at + 1;
      while (i < text.length && isSpace(text.charCodeAt(i))) i++;
      if (i >= text.length || text.charCodeAt(i) !== 93 /* ] */) return true;
    } else if (c === 123 /* { */) return true;
    at = valueStart(text, k, at);
  }
  return false;
}

/** The string value of `key` (first occurrence), unescaped only for plain text; undefined when absent or not a string. */
export function stringValue(text: string, k: Key, from = 0): string | undefined {
  const at = valueStart(text, k, from);
  if (at === -1 || text.charCodeAt(at) !== 34) return undefined;
  const end = text.indexOf('"', at + 1);
  return end === -1 ? undefined : text.slice(at + 1, end);
}

/** The non-negative integer value of `key` (first occurrence at or after `from`), or -1. */
export function intValue(text: string, k: Key, from = 0): number {
  const at = valueStart(text, k, from);
  if (at === -1) return -1;
  let n = 0;
  let i = at;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return i === at ? -1 : n;
}

/** Whether the text, after leading white space, starts a JSON object. */
export function isJsonObject(text: string): boolean {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === 123;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

const K_TYPE = key('type');
const K_EVENT = key('event');

/**
 * The string value of the first `type` key, else of the first `event` key: how house formats name
 * an event in its payload. Two native searches: a JS loop over the characters cost ~1,000
 * instructions an event in the server, where every string is a flattened concatenation (callgrind).
 */
export function typeOrEvent(text: string): string | undefined {
  return stringValue(text, K_TYPE) ?? stringValue(text, K_EVENT);
}
