/**
 * Model calls seen at the one interface every current SDK shares: the global `fetch`. The
 * official `openai` (v5, v6) and `@anthropic-ai/sdk` clients take it when constructed, the AI
 * SDK's providers on each call, whatever the module system, so CommonJS and ESM apps alike are
 * covered without patching SDK internals that change every major version.
 *
 * What the app gets back is untouched: the same promise from `fetch`, the same `Response`. Its
 * body is observed, not consumed: `Response.prototype.body` (and the body readers `json`, `text`,
 * `arrayBuffer`, `bytes`, `blob`) hand a model call's consumer a pass-through stream that pulls
 * from the original only when the consumer reads, so backpressure, cancellation and errors pass
 * through unchanged, and each chunk is timed when the consumer could read it.
 */
import { now } from '../clock';
import { reportSuppressed, safely } from '../hooks/safely';
import type { Recorder } from '../metrics/recorder';
import { recognise, type ModelEndpoint } from './endpoints';
import { ModelCall } from './model-call';
import { requestModel } from './request-model';
import { requestLinks } from './request-link';

type Fetch = typeof globalThis.fetch;

interface CallState {
  readonly call: ModelCall;
  /** The pass-through body handed out, once asked for. */
  body?: ReadableStream<Uint8Array>;
}

const BODY_READERS = ['json', 'text', 'arrayBuffer', 'bytes', 'blob'] as const;

/** The request's method, cheaply: most of an app's fetches are GETs and stop here. */
function methodOf(input: unknown, init: RequestInit | undefined): string {
  const m = init?.method ?? (input instanceof Request ? input.method : undefined);
  return m === undefined ? 'GET' : m.toUpperCase();
}

function urlOf(input: unknown): URL | undefined {
  if (typeof input === 'string') {
    try {
      return new URL(input);
    } catch {
      return undefined;
    }
  }
  if (input instanceof URL) return input;
  if (input instanceof Request) return new URL(input.url);
  return undefined;
}

/** Recognises a model call and starts timing it, or undefined for any other fetch. */
function startCall(recorder: Recorder, input: unknown, init: RequestInit | undefined): ModelCall | undefined {
  if (methodOf(input, init) !== 'POST') return undefined;
  const url = urlOf(input);
  if (url === undefined) return undefined;
  const headers = init?.headers ?? (input instanceof Request ? input.headers : undefined);
  const endpoint: ModelEndpoint | undefined = recognise(url, 'POST', headers);
  if (endpoint === undefined) return undefined;
  const model = endpoint.pathModel ?? requestModel(init?.body);
  return new ModelCall(
    recorder,
    { operation: endpoint.operation, provider: endpoint.provider, requestModel: model, address: endpoint.address, port: endpoint.port },
    endpoint.format,
    now(),
    // The request this call is made for, when the HTTP hook tracks requests' async context.
    requestLinks.getStore(),
  );
}

/**
 * A stream that reads `source()` (the response's own body, taken at the first read so a clone
 * made before still works) one chunk per consumer read, and tells the call what passed.
 */
function passThrough(call: ModelCall, source: () => ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        reader ??= source().getReader();
        return reader.read().then(
          (r) => {
            if (r.done) {
              safely(() => call.done(now()));
              controller.close();
            } else {
              safely(() => call.chunk(r.value, now()));
              controller.enqueue(r.value);
            }
          },
          (err: unknown) => {
            safely(() => call.failed(err, now()));
            controller.error(err);
          },
        );
      },
      cancel(reason) {
        safely(() => call.cancelled(now()));
        return (reader ?? source()).cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Installs the hook; returns its undo. Does nothing where `fetch` or `Response` is missing. */
export function installFetchHook(recorder: Recorder): () => void {
  const g = globalThis as { fetch?: Fetch; Response?: typeof Response };
  const original = g.fetch;
  const ResponseClass = g.Response;
  if (typeof original !== 'function' || typeof ResponseClass !== 'function') return () => undefined;
  const proto = ResponseClass.prototype as unknown as Record<string, unknown>;
  const bodyDescriptor = Object.getOwnPropertyDescriptor(proto, 'body');
  if (bodyDescriptor?.get === undefined || !bodyDescriptor.configurable) return () => undefined;
  const bodyGetter = bodyDescriptor.get;

  const states = new WeakMap<object, CallState>();

  const onResponse = (call: ModelCall, res: Response) => {
    if (call.response(res.status, res.headers.get('content-type') ?? '', now())) {
      if (bodyGetter.call(res) === null) call.done(now());
      else states.set(res, { call });
    }
  };

  const fetchHook = function fetch(this: unknown, input: string | URL | Request, init?: RequestInit): Promise<Response> {
    let call: ModelCall | undefined;
    try {
      call = startCall(recorder, input, init);
    } catch (err) {
      reportSuppressed(err);
    }
    // eslint-disable-next-line prefer-rest-params
    const p = Reflect.apply(original, this, arguments) as Promise<Response>;
    if (call === undefined) return p;
    const c = call;
    // Registered before the caller can await p, so the response is known before anyone reads it.
    p.then(
      (res) => safely(onResponse, c, res),
      (err: unknown) => safely(() => c.failed(err, now())),
    );
    return p;
  };

  const bodyHook = {
    get(this: Response): ReadableStream<Uint8Array> | null {
      const body = bodyGetter.call(this) as ReadableStream<Uint8Array> | null;
      if (body === null) return body;
      const state = states.get(this);
      if (state === undefined) return body;
      const res = this;
      return (state.body ??= passThrough(state.call, () => bodyGetter.call(res) as ReadableStream<Uint8Array>));
    },
  }.get;

  const readers: [string, PropertyDescriptor][] = [];
  for (const name of BODY_READERS) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    const orig = d?.value as ((this: Response) => Promise<unknown>) | undefined;
    if (d === undefined || typeof orig !== 'function' || !d.configurable) continue;
    readers.push([name, d]);
    const parses = name === 'json' || name === 'text';
    const wrapped = {
      [name](this: Response): Promise<unknown> {
        const state = states.get(this);
        if (state === undefined || state.body?.locked === true || this.bodyUsed) return orig.call(this);
        const call = state.call;
        // A whole JSON answer: the app's own parse is read afterwards, the body is not copied.
        if (parses && !call.streaming) {
          const p = orig.call(this);
          p.then(
            (value) => safely(() => call.whole(value, name === 'text', now())),
            (err: unknown) => safely(() => call.failed(err, now())),
          );
          return p;
        }
        // A stream (or audio) read whole: through the pass-through, so its first chunk is timed.
        const body = bodyHook.call(this);
        if (body === null || body.locked) return orig.call(this);
        const type = this.headers.get('content-type');
        const copy = new ResponseClass(body, type === null ? undefined : { headers: { 'content-type': type } });
        return (copy as unknown as Record<string, () => Promise<unknown>>)[name]!();
      },
    }[name]!;
    Object.defineProperty(proto, name, { ...d, value: wrapped });
  }
  Object.defineProperty(proto, 'body', { ...bodyDescriptor, get: bodyHook });

  const fetchDescriptor = Object.getOwnPropertyDescriptor(g, 'fetch');
  Object.defineProperty(g, 'fetch', { configurable: true, enumerable: fetchDescriptor?.enumerable ?? true, writable: true, value: fetchHook });

  return () => {
    if (g.fetch === fetchHook) {
      if (fetchDescriptor !== undefined) Object.defineProperty(g, 'fetch', fetchDescriptor);
      else g.fetch = original;
    }
    Object.defineProperty(proto, 'body', bodyDescriptor);
    for (const [name, d] of readers) Object.defineProperty(proto, name, d);
  };
}
