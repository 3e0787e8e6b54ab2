/**
 * The fetch hook never changes what the app gets: the same bytes by every body reader, the same
 * Response, clone and cancellation working, other fetches untouched, a failing recorder invisible
 * to the app, and an undo that restores everything. A local server writes an OpenAI chunk stream
 * (../../fixtures/stacks/wire.js) and a JSON body.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { installFetchHook } from '../../../instrumentation/genai/fetch-hook';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { MetricsView, throwingModelRecorder } from '../../helpers/metrics';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wire = require('../../fixtures/stacks/wire.js') as { openaiChat: (first: number, gap: number) => [number, string][] };

const STREAM = wire.openaiChat(0, 0).map(([, t]) => t).join('');
const JSON_BODY = '{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}';
let server: http.Server;
let base: string;
let closed = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/v1/chat/completions' && req.headers['x-stream'] === '1') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(STREAM.slice(0, 200));
        // Held open when asked: the test cancels it.
        if (req.headers['x-hold'] === '1') {
          res.on('close', () => closed++);
          return;
        }
        res.end(STREAM.slice(200));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON_BODY);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

let recorder: Recorder;
let undo: () => void;
const originalFetch = globalThis.fetch;
const originalBody = Object.getOwnPropertyDescriptor(Response.prototype, 'body');
beforeEach(() => {
  recorder = new Recorder();
  undo = installFetchHook(recorder);
});
afterEach(() => undo());

const post = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers, body: '{"model":"gpt-4o-mini","stream":true}' });
const calls = () => new MetricsView(recorder).count('gen_ai.client.operation.duration');

describe('the fetch hook', () => {
  it('gives the same bytes through body, text(), json(), arrayBuffer() and blob(), and one body stream per response', async () => {
    const res = await post('/v1/chat/completions', { 'x-stream': '1' });
    expect(res).toBeInstanceOf(Response);
    expect(res.body).toBe(res.body);
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    expect(text).toBe(STREAM);
    expect(res.bodyUsed).toBe(true);
    expect(await (await post('/v1/chat/completions', { 'x-stream': '1' })).text()).toBe(STREAM);
    expect(await (await post('/v1/chat/completions')).json()).toEqual(JSON.parse(JSON_BODY));
    expect(Buffer.from(await (await post('/v1/chat/completions')).arrayBuffer()).toString()).toBe(JSON_BODY);
    const blob = await (await post('/v1/chat/completions')).blob();
    expect(blob.type).toBe('application/json');
    expect(await blob.text()).toBe(JSON_BODY);
    expect(calls()).toBe(5);
  });

  it('a body read twice fails as it does without the hook', async () => {
    const res = await post('/v1/chat/completions');
    await res.text();
    await expect(res.text()).rejects.toThrow(TypeError);
  });

  it('clone() before reading gives both readers the whole body', async () => {
    const res = await post('/v1/chat/completions', { 'x-stream': '1' });
    const copy = res.clone();
    expect(await Promise.all([res.text(), copy.text()])).toEqual([STREAM, STREAM]);
  });

  it("the app's cancel reaches the server and ends the call as cancelled", async () => {
    const res = await post('/v1/chat/completions', { 'x-stream': '1', 'x-hold': '1' });
    const reader = res.body!.getReader();
    await reader.read();
    const before = closed;
    await reader.cancel();
    for (let i = 0; i < 100 && closed === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(before + 1);
    expect(new MetricsView(recorder).count('gen_ai.client.operation.duration', { 'error.type': 'cancelled' })).toBe(1);
  });

  it('leaves other fetches alone: their body is the original stream, nothing is recorded', async () => {
    const res = await fetch(`${base}/api/other`, { method: 'POST', body: '{"model":"x"}' });
    const raw = originalBody!.get!.call(res);
    expect(res.body).toBe(raw);
    expect(await res.text()).toBe(JSON_BODY);
    expect(calls()).toBe(0);
  });

  it('a recorder that throws never reaches the app', async () => {
    undo();
    undo = installFetchHook(throwingModelRecorder());
    expect(await (await post('/v1/chat/completions', { 'x-stream': '1' })).text()).toBe(STREAM);
    expect(await (await post('/v1/chat/completions')).json()).toEqual(JSON.parse(JSON_BODY));
  });

  it('undo restores fetch and the Response prototype', () => {
    undo();
    expect(globalThis.fetch).toBe(originalFetch);
    expect(Object.getOwnPropertyDescriptor(Response.prototype, 'body')).toEqual(originalBody);
    undo = () => undefined;
  });
});
