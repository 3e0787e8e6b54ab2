/**
 * The HTTP client hook (model calls over `http.request`, as `openai` v4's node-fetch makes them)
 * never changes what the client gets: the same bytes, compressed or not, the same flow; other
 * requests untouched; a failing recorder invisible; an undo that restores ClientRequest's
 * prototype. A local server writes an OpenAI chunk stream (../../fixtures/stacks/wire.js),
 * plain or gzip-compressed, and a JSON body. The SDK end to end: model-calls.test.ts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { installHttpClientHook } from '../../../instrumentation/genai/http-client-hook';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { MetricsView, throwingModelRecorder } from '../../helpers/metrics';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wire = require('../../fixtures/stacks/wire.js') as { openaiChat: (first: number, gap: number) => [number, string][] };

const EVENTS = wire.openaiChat(0, 0).map(([, t]) => t);
const STREAM = EVENTS.join('');
const JSON_BODY = '{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}';
let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-stream'] === undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON_BODY);
        return;
      }
      const gzip = req.headers['x-stream'] === 'gzip';
      res.writeHead(200, { 'content-type': 'text/event-stream', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      const out: { write(b: string): void; end(): void; flush?(cb: () => void): void } = gzip ? zlib.createGzip() : res;
      if (gzip) (out as zlib.Gzip).pipe(res);
      // One event per 5 ms, each flushed, so the client receives them apart.
      let i = 0;
      const next = () => {
        if (i === EVENTS.length) return out.end();
        out.write(EVENTS[i++]!);
        if (gzip) (out as zlib.Gzip).flush(() => setTimeout(next, 5));
        else setTimeout(next, 5);
      };
      next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

let recorder: Recorder;
let undo: () => void;
beforeEach(() => {
  recorder = new Recorder();
  undo = installHttpClientHook(recorder);
});
afterEach(() => undo());

/** A POST as node-fetch sends one: the body written whole, then end(). Answers the raw body bytes. */
function post(path: string, headers: Record<string, string> = {}, body = '{"model":"gpt-4o-mini","stream":true}'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts)));
    });
    req.on('error', reject);
    req.write(Buffer.from(body));
    req.end();
  });
}

const view = () => new MetricsView(recorder);

describe('the HTTP client hook', () => {
  it('times a streamed call chunk by chunk and reads its usage; the client gets the same bytes', async () => {
    const bytes = await post('/v1/chat/completions', { 'x-stream': 'plain' });
    expect(bytes.toString()).toBe(STREAM);
    const v = view();
    expect(v.count('gen_ai.client.operation.duration', { 'gen_ai.request.model': 'gpt-4o-mini' })).toBe(1);
    expect(v.count('gen_ai.client.operation.time_to_first_chunk')).toBe(1);
    expect(v.count('gen_ai.client.operation.time_per_output_chunk')).toBeGreaterThan(0);
    expect(v.count('gen_ai.client.token.usage', { 'gen_ai.token.type': 'input' })).toBe(1);
  });

  it('decodes a gzip stream for its parsers only: the client still gets the compressed bytes', async () => {
    const bytes = await post('/v1/chat/completions', { 'x-stream': 'gzip' });
    expect(zlib.gunzipSync(bytes).toString()).toBe(STREAM);
    const v = view();
    expect(v.count('gen_ai.client.operation.time_to_first_chunk')).toBe(1);
    expect(v.count('gen_ai.client.token.usage', { 'gen_ai.token.type': 'output' })).toBe(1);
  });

  it('reads a whole JSON answer for its usage and response model', async () => {
    expect((await post('/v1/chat/completions', {}, '{"model":"my-model","messages":[]}')).toString()).toBe(JSON_BODY);
    const v = view();
    expect(v.count('gen_ai.client.operation.duration', { 'gen_ai.request.model': 'my-model', 'gen_ai.response.model': 'gpt-4o-mini' })).toBe(1);
    expect(v.count('gen_ai.client.operation.time_to_first_chunk')).toBe(0);
  });

  it('leaves other requests alone: nothing recorded, the response not wrapped', async () => {
    expect((await post('/api/other', {}, '{"model":"x"}')).toString()).toBe(JSON_BODY);
    const res = await new Promise<http.IncomingMessage>((resolve) => http.get({ host: '127.0.0.1', port, path: '/v1/chat/completions' }, resolve));
    expect(Object.prototype.hasOwnProperty.call(res, 'push')).toBe(false);
    res.resume();
    expect(view().count('gen_ai.client.operation.duration')).toBe(0);
  });

  it('a recorder that throws never reaches the client', async () => {
    undo();
    undo = installHttpClientHook(throwingModelRecorder());
    expect((await post('/v1/chat/completions', { 'x-stream': 'plain' })).toString()).toBe(STREAM);
    expect((await post('/v1/chat/completions')).toString()).toBe(JSON_BODY);
  });

  it("undo restores ClientRequest's prototype", () => {
    undo();
    expect(Object.getOwnPropertyDescriptor(http.ClientRequest.prototype, 'write')).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(http.ClientRequest.prototype, 'end')).toBeUndefined();
    undo = () => undefined;
  });
});
