import { key as quoted, valueStart, type Key } from '../streams/formats/json-scan';

export const K_MODEL = quoted('model');
const K_MODEL_ID = quoted('model_id');

/** Longest model name read; anything longer is not a model name (and is not read further). */
const MAX_MODEL = 128;

/**
 * The first string value of `key` in a JSON text, without parsing it: SDKs serialise the request
 * body once, and a prompt may be megabytes. A key match cannot be text inside a string (quotes
 * there are escaped), so only keys are found; one whose value is not a string is skipped.
 */
export function firstStringValue(text: string, key: Key): string | undefined {
  let at = valueStart(text, key);
  while (at !== -1) {
    if (text.charCodeAt(at) === 34 /* " */) {
      const end = text.indexOf('"', at + 1);
      if (end === -1 || end - at - 1 > MAX_MODEL) return undefined;
      return text.slice(at + 1, end);
    }
    at = valueStart(text, key, at);
  }
  return undefined;
}

/** The model a request body names: `model` (OpenAI, Anthropic, compatible servers) or `model_id` (ElevenLabs). */
export function requestModel(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  return firstStringValue(body, K_MODEL) ?? firstStringValue(body, K_MODEL_ID);
}
