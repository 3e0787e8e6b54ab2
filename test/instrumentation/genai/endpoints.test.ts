import { describe, expect, it } from 'vitest';
import { headerValue, recognise } from '../../../instrumentation/genai/endpoints';

const r = (url: string, headers: unknown = {}, method = 'POST') => recognise(new URL(url), method, headers);

describe('recognise: which fetches are model calls', () => {
  it('knows the vendors by host and the OpenAI-compatible servers by path', () => {
    expect(r('https://api.openai.com/v1/chat/completions')).toMatchObject({ operation: 'chat', provider: 'openai', address: 'api.openai.com', port: 443 });
    expect(r('https://api.openai.com/v1/responses')).toMatchObject({ operation: 'chat', provider: 'openai' });
    expect(r('https://my.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21')).toMatchObject({ provider: 'azure.ai.openai' });
    expect(r('https://api.anthropic.com/v1/messages')).toMatchObject({ operation: 'chat', provider: 'anthropic' });
    expect(r('https://api.groq.com/openai/v1/chat/completions')).toMatchObject({ provider: 'groq' });
    // vLLM, Ollama's /v1, LiteLLM: OpenAI's API shape on the app's own host and port.
    expect(r('http://localhost:8000/v1/chat/completions')).toMatchObject({ provider: 'openai', address: 'localhost', port: 8000 });
    expect(r('http://127.0.0.1:11434/v1/chat/completions')).toMatchObject({ provider: 'openai', port: 11434 });
    expect(r('http://litellm:4000/chat/completions')).toMatchObject({ provider: 'openai', port: 4000 });
    expect(r('http://127.0.0.1:11434/api/chat')).toMatchObject({ provider: 'ollama' });
  });

  it('reads the operation: speech synthesis, embeddings, Gemini with the model in the path', () => {
    expect(r('https://api.openai.com/v1/audio/speech')).toMatchObject({ operation: 'text_to_speech', provider: 'openai' });
    expect(r('https://api.elevenlabs.io/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream')).toMatchObject({ operation: 'text_to_speech', provider: 'elevenlabs' });
    expect(r('https://api.openai.com/v1/embeddings')).toMatchObject({ operation: 'embeddings' });
    expect(r('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse')).toMatchObject({
      operation: 'generate_content',
      provider: 'gcp.gemini',
      pathModel: 'gemini-2.0-flash',
    });
  });

  it('leaves every other fetch alone: GETs, other paths, a plain /messages without the Anthropic header, /api/chat off Ollama\'s port', () => {
    expect(r('https://api.openai.com/v1/chat/completions', {}, 'GET')).toBeUndefined();
    expect(r('https://api.openai.com/v1/models')).toBeUndefined();
    expect(r('http://chat-store/api/messages')).toBeUndefined();
    expect(r('http://chat-store/api/messages', { 'anthropic-version': '2023-06-01' })).toMatchObject({ provider: 'anthropic' });
    expect(r('http://backend:3000/api/chat')).toBeUndefined();
  });

  it('reads a header from a Headers object, an array of pairs or a plain object', () => {
    expect(headerValue(new Headers({ 'Anthropic-Version': '1' }), 'anthropic-version')).toBe('1');
    expect(headerValue([['Anthropic-Version', '2']], 'anthropic-version')).toBe('2');
    expect(headerValue({ 'Anthropic-Version': '3' }, 'anthropic-version')).toBe('3');
    expect(headerValue(undefined, 'anthropic-version')).toBeUndefined();
  });
});
