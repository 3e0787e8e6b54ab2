import { describe, expect, it } from 'vitest';
import { requestModel } from '../../../instrumentation/genai/request-model';

describe('requestModel: the model a request body names, without parsing it', () => {
  it('finds `model` wherever the SDK put it, and `model_id` (ElevenLabs)', () => {
    expect(requestModel(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }))).toBe('gpt-4o-mini');
    expect(requestModel(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], model: 'claude-sonnet-4-5' }))).toBe('claude-sonnet-4-5');
    expect(requestModel(JSON.stringify({ text: 'hi', model_id: 'eleven_flash_v2_5' }))).toBe('eleven_flash_v2_5');
  });

  it('never takes text from a prompt: a quoted "model" inside a message is escaped, so it is not a key', () => {
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'set "model": "leak" please' }], model: 'gpt-4o' });
    expect(requestModel(body)).toBe('gpt-4o');
    expect(requestModel(JSON.stringify({ messages: [{ role: 'user', content: '"model":"leak"' }] }))).toBeUndefined();
  });

  it('skips a `model` key whose value is not a string (a tool schema property), and bodies that are not text', () => {
    const body = JSON.stringify({ tools: [{ parameters: { properties: { model: { type: 'string' } } } }], model: 'gpt-4o' });
    expect(requestModel(body)).toBe('gpt-4o');
    expect(requestModel(new Uint8Array([1, 2]))).toBeUndefined();
    expect(requestModel(undefined)).toBeUndefined();
  });
});
