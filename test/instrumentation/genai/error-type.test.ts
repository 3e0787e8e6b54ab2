import { describe, expect, it } from 'vitest';
import { statusErrorType, streamErrorType, thrownErrorType } from '../../../instrumentation/genai/error-type';

describe('error.type of a model call', () => {
  it('an HTTP error is its status code', () => {
    expect(statusErrorType(429)).toBe('429');
  });

  it('an in-stream error is the vendor type (OpenAI, Anthropic, Responses), else stream_error', () => {
    expect(streamErrorType('{"error":{"message":"x","type":"server_error","param":null,"code":null}}')).toBe('server_error');
    expect(streamErrorType('{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}')).toBe('overloaded_error');
    expect(streamErrorType('{"type":"error","code":"server_error","message":"x"}')).toBe('server_error');
    expect(streamErrorType('{"error":{"type":"has spaces and a prompt"}}')).toBe('stream_error');
  });

  it('a thrown error is Node\'s code, cancelled for an abort, timeout for a timeout signal, else _OTHER', () => {
    expect(thrownErrorType(Object.assign(new TypeError('terminated'), { cause: { code: 'UND_ERR_SOCKET' } }))).toBe('UND_ERR_SOCKET');
    expect(thrownErrorType(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toBe('ECONNREFUSED');
    expect(thrownErrorType(new DOMException('aborted', 'AbortError'))).toBe('cancelled');
    expect(thrownErrorType(new DOMException('timed out', 'TimeoutError'))).toBe('timeout');
    expect(thrownErrorType(new Error('some prompt text'))).toBe('_OTHER');
  });
});
