/**
 * Makes an app check's `details` safe to serve: health responses are often public or logged, and
 * the app's own checks return whatever they like. Values under secret-looking keys are masked,
 * strings pass the same redaction as the built-in checks' messages, and the whole is bounded in
 * depth, width and size, so one check cannot leak a credential or bloat every report.
 */
import { redactText } from './redact';

const MASK = '***';
/** Keys whose values are credentials whatever they hold (`password`, `apiKey`, `clientSecret`, `authorization`, …). */
const SECRET_KEY = /pass(word|wd)?|secret|token|api[_-]?key|authori[sz]ation|credential|cookie|private[_-]?key|session[_-]?id|^auth$/i;
const MAX_DEPTH = 4;
const MAX_KEYS = 50;
const MAX_ITEMS = 50;
const MAX_STRING = 500;
/** Serialized size of the whole: past it, the details are replaced by a note saying so. */
export const MAX_DETAILS_BYTES = 8 * 1024;

/** The details as JSON-safe, credential-free, bounded data; undefined when there are none. */
export function sanitizeDetails(details: unknown): Record<string, unknown> | undefined {
  if (details === undefined || details === null) return undefined;
  if (typeof details !== 'object' || Array.isArray(details)) return { value: clean(details, 1) };
  const out = clean(details, 0) as Record<string, unknown>;
  const size = Buffer.byteLength(JSON.stringify(out), 'utf8');
  return size > MAX_DETAILS_BYTES ? { truncated: true, reason: `details exceed ${MAX_DETAILS_BYTES} bytes (${size})` } : out;
}

function clean(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
      return redactText(value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => clean(v, depth + 1) ?? null);
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more`);
    return items;
  }
  const out: Record<string, unknown> = {};
  // Own enumerable keys only: getters that throw and prototype junk never run or leak.
  let keys: string[];
  try {
    keys = Object.keys(value as object);
  } catch {
    return '[unreadable]';
  }
  for (const key of keys.slice(0, MAX_KEYS)) {
    if (SECRET_KEY.test(key)) {
      out[key] = MASK;
      continue;
    }
    let v: unknown;
    try {
      v = (value as Record<string, unknown>)[key];
    } catch {
      v = '[unreadable]';
    }
    const c = clean(v, depth + 1);
    if (c !== undefined) out[key] = c;
  }
  if (keys.length > MAX_KEYS) out['…'] = `${keys.length - MAX_KEYS} more keys`;
  return out;
}
