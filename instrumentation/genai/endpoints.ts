import type { GenAiOperation } from '../metrics/catalog';
import type { PayloadFormat } from '../streams/formats/frame';
import { anthropic } from '../streams/formats/anthropic';
import { gemini } from '../streams/formats/gemini';
import { ollama } from '../streams/formats/ollama';
import { openaiChat } from '../streams/formats/openai-chat';
import { openaiResponses } from '../streams/formats/openai-responses';

/** A request recognised as a model call: what it does, to whom, and how its stream is written. */
export interface ModelEndpoint {
  readonly operation: GenAiOperation;
  /** `gen_ai.provider.name`: from the host when it is a known vendor's, else from the API shape. */
  readonly provider: string;
  /** The stream's wire format, so its parser starts without detection (undefined: detect). */
  readonly format: PayloadFormat | undefined;
  readonly address: string;
  readonly port: number;
  /** Gemini names the model in the path, not the body. */
  readonly pathModel: string | undefined;
}

/** Known vendor hosts, by suffix, and their `gen_ai.provider.name` (the conventions' values). */
const HOSTS: readonly (readonly [string, string])[] = [
  ['api.openai.com', 'openai'],
  ['.openai.azure.com', 'azure.ai.openai'],
  ['.cognitiveservices.azure.com', 'azure.ai.openai'],
  ['.services.ai.azure.com', 'azure.ai.inference'],
  ['api.anthropic.com', 'anthropic'],
  ['generativelanguage.googleapis.com', 'gcp.gemini'],
  ['aiplatform.googleapis.com', 'gcp.vertex_ai'],
  ['api.groq.com', 'groq'],
  ['api.mistral.ai', 'mistral_ai'],
  ['api.deepseek.com', 'deepseek'],
  ['api.x.ai', 'x_ai'],
  ['api.perplexity.ai', 'perplexity'],
  ['api.moonshot.ai', 'moonshot_ai'],
  ['api.cohere.com', 'cohere'],
  ['api.cohere.ai', 'cohere'],
  ['api.elevenlabs.io', 'elevenlabs'],
];

function hostProvider(host: string): string | undefined {
  for (const [suffix, provider] of HOSTS) if (host === suffix || host.endsWith(suffix)) return provider;
  return undefined;
}

/** Reads one request header from any of fetch's header shapes, without copying them. */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  if (Array.isArray(headers)) {
    for (const pair of headers as unknown[]) {
      if (Array.isArray(pair) && String(pair[0]).toLowerCase() === name) return String(pair[1]);
    }
    return undefined;
  }
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return String((headers as Record<string, unknown>)[k]);
  return undefined;
}

/**
 * Recognises a model API call by its method, path and host, or returns undefined (the common case
 * for an app's other fetches: one `charCodeAt` on the method and a few `endsWith` on the path).
 * OpenAI-compatible servers (vLLM, Ollama's `/v1`, LiteLLM, Azure OpenAI) share OpenAI's paths.
 */
export function recognise(url: URL, method: string, headers: unknown): ModelEndpoint | undefined {
  if (method !== 'POST') return undefined;
  const path = url.pathname;
  let operation: GenAiOperation;
  let format: PayloadFormat | undefined;
  let fallback: string;
  let pathModel: string | undefined;
  if (path.endsWith('/chat/completions')) {
    operation = 'chat';
    format = openaiChat;
    fallback = 'openai';
  } else if (path.endsWith('/responses')) {
    operation = 'chat';
    format = openaiResponses;
    fallback = 'openai';
  } else if (path.endsWith('/messages')) {
    // A path this plain is Anthropic's only with its version header (every Anthropic client sends it).
    if (headerValue(headers, 'anthropic-version') === undefined && hostProvider(url.hostname) !== 'anthropic') return undefined;
    operation = 'chat';
    format = anthropic;
    fallback = 'anthropic';
  } else if (path.endsWith('/audio/speech')) {
    operation = 'text_to_speech';
    format = undefined;
    fallback = 'openai';
  } else if (path.includes('/text-to-speech/')) {
    operation = 'text_to_speech';
    format = undefined;
    fallback = 'elevenlabs';
  } else if (path.endsWith('/embeddings')) {
    operation = 'embeddings';
    format = undefined;
    fallback = 'openai';
  } else if (path.endsWith(':streamGenerateContent') || path.endsWith(':generateContent')) {
    operation = 'generate_content';
    format = gemini;
    fallback = 'gcp.gen_ai';
    const m = /\/models\/([^/:]+):/.exec(path);
    pathModel = m === null ? undefined : decodeURIComponent(m[1]!);
  } else if ((path === '/api/chat' || path === '/api/generate') && url.port === '11434') {
    // Ollama's native API, on its own port only: `/api/chat` is too common a path otherwise.
    operation = 'chat';
    format = ollama;
    fallback = 'ollama';
  } else return undefined;
  const host = url.hostname;
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { operation, provider: hostProvider(host) ?? fallback, format, address: host, port, pathModel };
}
