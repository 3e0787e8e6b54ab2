import { ERROR_TYPES, type ErrorType } from '../metrics/catalog';

const CLASSES: ReadonlySet<string> = new Set(ERROR_TYPES);
const PREFIX = new RegExp(`^(${ERROR_TYPES.join('|')})(?:[^a-z]|$)`);

/** Maps a free-form label (`llm`, `LLM_TIMEOUT`, `tts-error`) to a documented class, else `other`. */
export function classifyLabel(label: unknown): ErrorType | undefined {
  if (typeof label !== 'string' || label === '') return undefined;
  const l = label.toLowerCase();
  if (CLASSES.has(l)) return l as ErrorType;
  const m = PREFIX.exec(l);
  if (m !== null) return m[1] as ErrorType;
  if (l.includes('timeout') || l.includes('timedout')) return 'timeout';
  if (l.startsWith('econn') || l.startsWith('enotfound') || l.startsWith('epipe')) return 'network';
  return undefined;
}

/**
 * Classifies the data of an SSE error event. Chatbot backends usually send JSON such as
 * `{"type":"llm","message":"…"}` or `{"error":{"type":"tts"}}`; the first recognisable label wins.
 */
export function classifyErrorPayload(data: string | undefined): ErrorType {
  if (data === undefined) return 'other';
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return classifyLabel(data.trim().split(/[\s:]/, 1)[0]) ?? 'other';
  }
  const candidates: unknown[] = [];
  const collect = (o: unknown) => {
    if (o === null || typeof o !== 'object') return;
    const r = o as Record<string, unknown>;
    candidates.push(r.type, r.category, r.source, r.code, r.name);
  };
  collect(parsed);
  if (parsed !== null && typeof parsed === 'object') collect((parsed as Record<string, unknown>).error);
  if (typeof parsed === 'string') candidates.push(parsed);
  for (const c of candidates) {
    const t = classifyLabel(c);
    if (t !== undefined) return t;
  }
  return 'other';
}
