import { aiSdkUi } from './ai-sdk-ui';
import { anthropic } from './anthropic';
import type { PayloadFormat } from './frame';
import { gemini } from './gemini';
import { isJsonObject, key, stringValue, valueStart } from './json-scan';
import { ollama } from './ollama';
import { openaiChat } from './openai-chat';
import { openaiResponses } from './openai-responses';

const K_CHOICES = key('choices');
const K_DELTA = key('delta');
const K_CANDIDATES = key('candidates');
const K_TYPE = key('type');
const K_MODEL = key('model');
const K_DONE = key('done');

const ANTHROPIC_EVENTS: ReadonlySet<string> = new Set([
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
]);

/** UI message stream part types no other format uses (a bare `start` or `finish` is not enough). */
const AI_SDK_UI_TYPES: ReadonlySet<string> = new Set([
  'start-step',
  'finish-step',
  'text-start',
  'text-delta',
  'text-end',
  'reasoning-start',
  'reasoning-delta',
  'reasoning-end',
  'tool-input-start',
  'tool-input-delta',
  'tool-input-available',
]);

/**
 * Recognises a model API's wire format from one SSE event, or undefined when the event does not
 * tell (the caller judges it with the generic rules and asks again on the next event). Runs only
 * until a format is known, so a stream pays for it on its first events alone.
 */
export function detectEvent(event: string, data: string): PayloadFormat | undefined {
  if (event !== '' && event !== 'message') {
    if (ANTHROPIC_EVENTS.has(event)) return anthropic;
    if (event.startsWith('response.')) return openaiResponses;
    return undefined;
  }
  if (!isJsonObject(data)) return undefined;
  if (data.indexOf('"chat.completion.chunk"') !== -1) return openaiChat;
  if (valueStart(data, K_CHOICES) !== -1 && valueStart(data, K_DELTA) !== -1) return openaiChat;
  if (valueStart(data, K_CANDIDATES) !== -1) return gemini;
  const type = stringValue(data, K_TYPE);
  if (type !== undefined) {
    if (type.startsWith('response.')) return openaiResponses;
    if (ANTHROPIC_EVENTS.has(type)) return anthropic;
    if (AI_SDK_UI_TYPES.has(type)) return aiSdkUi;
  }
  return undefined;
}

/** The same for one NDJSON line: Ollama's chat and generate lines, or OpenAI-style chunks. */
export function detectLine(data: string): PayloadFormat | undefined {
  if (!isJsonObject(data)) return undefined;
  if (valueStart(data, K_MODEL) !== -1 && valueStart(data, K_DONE) !== -1) return ollama;
  return detectEvent('', data);
}
