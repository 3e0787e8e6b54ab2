import type { StreamFacts } from './frame';
import { intValue, key, type Key, valueStart } from './json-scan';

const K_USAGE = key('usage');

/**
 * Token usage in a `usage` object (a house format's control event `{"type":"done","usage":{…}}`,
 * OpenAI's usage chunk, the Responses API's `response.completed`, the AI SDK's finish parts), under
 * the spellings the model APIs use: OpenAI's `prompt_tokens`/`completion_tokens`, Anthropic's and
 * the Responses API's `input_tokens`/`output_tokens`, the AI SDK's `inputTokens`/`outputTokens`
 * and `promptTokens`/`completionTokens`.
 */
const INPUT_KEYS = ['input_tokens', 'prompt_tokens', 'inputTokens', 'promptTokens'].map(key);
const OUTPUT_KEYS = ['output_tokens', 'completion_tokens', 'outputTokens', 'completionTokens'].map(key);

export function readUsage(data: string, facts: StreamFacts): boolean {
  const u = valueStart(data, K_USAGE);
  if (u === -1 || data.charCodeAt(u) !== 123 /* { */) return false;
  const input = first(data, u, INPUT_KEYS);
  const output = first(data, u, OUTPUT_KEYS);
  if (input >= 0) facts.inputTokens = input;
  if (output >= 0) facts.outputTokens = output;
  return input >= 0 || output >= 0;
}

function first(data: string, from: number, keys: readonly Key[]): number {
  for (const k of keys) {
    const n = intValue(data, k, from);
    if (n >= 0) return n;
  }
  return -1;
}
