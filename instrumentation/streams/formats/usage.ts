import type { StreamFacts } from './frame';
import { intValue, valueStart } from './json-scan';

/**
 * Token usage in a house format's control event (`{"type":"done","usage":{…}}`), under the
 * spellings the model APIs use: OpenAI's `prompt_tokens`/`completion_tokens`, Anthropic's and
 * the Responses API's `input_tokens`/`output_tokens`, the AI SDK's `inputTokens`/`outputTokens`
 * and `promptTokens`/`completionTokens`.
 */
export function readUsage(data: string, facts: StreamFacts): void {
  const u = valueStart(data, 'usage');
  if (u === -1 || data.charCodeAt(u) !== 123 /* { */) return;
  const input = first(data, u, 'input_tokens', 'prompt_tokens', 'inputTokens', 'promptTokens');
  const output = first(data, u, 'output_tokens', 'completion_tokens', 'outputTokens', 'completionTokens');
  if (input >= 0) facts.inputTokens = input;
  if (output >= 0) facts.outputTokens = output;
}

function first(data: string, from: number, ...keys: string[]): number {
  for (const k of keys) {
    const n = intValue(data, k, from);
    if (n >= 0) return n;
  }
  return -1;
}
