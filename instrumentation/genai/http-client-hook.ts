/**
 * Model calls made through Node's `http` / `https` client rather than `fetch`: the `openai` v4 SDK
 * (node-fetch over `http.request` by default), and any client built the same way. No module is
 * patched, so it holds across SDK versions: a POST's first body write through
 * `ClientRequest.prototype` recognises the call (method, host, path; the rest of an app's requests
 * cost one compare), Node's `http.client.response.finish` / `http.client.request.error`
 * diagnostics channels give its answer, and then the one response recognised is observed:
 *
 *  - the request body's first bytes, as the client writes them, for the request model;
 *  - each body chunk as the response receives it from the socket (its `push`, wrapped on that
 *    response object only): nothing is read, buffered or resumed, so flow, backpressure and
 *    errors are the client's own. Compressed bodies (node-fetch asks for gzip) are decoded for
 *    the parsers only, with bounded state.
 *
 * The global `fetch` (undici) does not go through `http.request`, so no call is seen twice.
 */
import * as dc from 'node:diagnostics_channel';
import { ClientRequest, type IncomingMessage } from 'node:http';
import { now } from '../clock';
import { reportSuppressed, safely } from '../hooks/safely';
import type { Recorder } from '../metrics/recorder';
import { BodyDecoder } from '../streams/body-decoder';
import { recognise, type ModelEndpoint } from './endpoints';
import { ModelCall } from './model-call';
import { requestLinks, type FirstTokenLink } from './request-link';
import { requestModel } from './request-model';

const RESPONSE_FINISH = 'http.client.response.finish';
const REQUEST_ERROR = 'http.client.request.error';

/** How much of the request body is kept to find the model in. */
const BODY_HEAD = 4096;

/** A recognised call between its request's start and its response's end. */
class PendingCall {
  head = '';
  call: ModelCall | undefined;
  decoder: BodyDecoder | undefined;

  constructor(
    readonly endpoint: ModelEndpoint,
    readonly startedAt: number,
    readonly link: FirstTokenLink | undefined,
  ) {}

  /** The call, made once the model is known (the body was written) or the answer came first. */
  resolve(recorder: Recorder): ModelCall {
    const e = this.endpoint;
    return (this.call ??= new ModelCall(
      recorder,
      { operation: e.operation, provider: e.provider, requestModel: e.pathModel ?? requestModel(this.head), address: e.address, port: e.port },
      e.format,
      this.startedAt,
      this.link,
    ));
  }
}

function urlOf(req: ClientRequest): URL | undefined {
  const host = req.getHeader('host') ?? req.host;
  try {
    return new URL(`${req.protocol}//${String(host)}${req.path}`);
  } catch {
    return undefined;
  }
}

function keep(p: PendingCall, chunk: unknown, encoding: unknown): void {
  if (p.head.length >= BODY_HEAD || chunk === undefined || chunk === null || typeof chunk === 'function') return;
  const enc = typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8';
  const text =
    typeof chunk === 'string'
      ? chunk.slice(0, BODY_HEAD)
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.byteLength, BODY_HEAD)).toString(enc)
        : '';
  p.head += text.slice(0, BODY_HEAD - p.head.length);
}

/** Installs the hook; returns its undo. */
export function installHttpClientHook(recorder: Recorder): () => void {
  /** Recognised calls by request (null: a POST that is not a model call). */
  const pending = new WeakMap<ClientRequest, PendingCall | null>();
  const proto = ClientRequest.prototype as unknown as Record<string, unknown>;
  // ClientRequest inherits write and end from OutgoingMessage; own ones call whatever it has then.
  const base = Object.getPrototypeOf(proto) as { write: (...a: unknown[]) => unknown; end: (...a: unknown[]) => unknown };
  const hadWrite = Object.getOwnPropertyDescriptor(proto, 'write');
  const hadEnd = Object.getOwnPropertyDescriptor(proto, 'end');
  const origWrite = (hadWrite?.value ?? undefined) as ((...a: unknown[]) => unknown) | undefined;
  const origEnd = (hadEnd?.value ?? undefined) as ((...a: unknown[]) => unknown) | undefined;
  // Most requests are not POSTs: one property load and compare, then the original.
  const write = function write(this: ClientRequest, chunk: unknown, encoding: unknown) {
    if (this.method === 'POST') observeBody(this, chunk, encoding);
    // eslint-disable-next-line prefer-rest-params
    return Reflect.apply(origWrite ?? base.write, this, arguments);
  };
  const end = function end(this: ClientRequest, chunk: unknown, encoding: unknown) {
    if (this.method === 'POST') observeBody(this, typeof chunk === 'function' ? undefined : chunk, encoding);
    // eslint-disable-next-line prefer-rest-params
    return Reflect.apply(origEnd ?? base.end, this, arguments);
  };

  /** The call a POST request is, recognised at its first write (undefined: not a model call). */
  function track(req: ClientRequest): PendingCall | undefined {
    const known = pending.get(req);
    if (known !== undefined) return known ?? undefined;
    const url = urlOf(req);
    const endpoint = url === undefined ? undefined : recognise(url, 'POST', req.getHeaders());
    const p = endpoint === undefined ? null : new PendingCall(endpoint, now(), requestLinks.getStore());
    pending.set(req, p);
    return p ?? undefined;
  }

  /** A request's body passes here before Node sends it: its first bytes name the model. */
  function observeBody(req: ClientRequest, chunk: unknown, encoding: unknown): void {
    try {
      const p = track(req);
      if (p !== undefined) keep(p, chunk, encoding);
    } catch (err) {
      reportSuppressed(err);
    }
  }

  function onResponse(message: unknown): void {
    const { request: req, response: res } = message as { request: ClientRequest; response: IncomingMessage };
    const p = pending.get(req);
    if (p === undefined || p === null) return;
    pending.delete(req);
    const call = p.resolve(recorder);
    const type = res.headers['content-type'];
    if (!call.response(res.statusCode ?? 0, typeof type === 'string' ? type : '', now())) {
      return;
    }
    const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
    // A body we cannot decode is timed to its end, not read.
    if (encoding !== '' && encoding !== 'identity') p.decoder = BodyDecoder.create(encoding);
    const undecodable = encoding !== '' && encoding !== 'identity' && p.decoder === undefined;
    const push = res.push;
    res.push = function (this: IncomingMessage, chunk: unknown, enc?: BufferEncoding) {
      if (chunk !== null && chunk !== undefined && !undecodable) {
        try {
          const at = now();
          let bytes = typeof chunk === 'string' ? Buffer.from(chunk, enc) : (chunk as Uint8Array);
          if (p.decoder !== undefined) {
            const plain = p.decoder.decode(bytes);
            bytes = plain ?? Buffer.alloc(0);
          }
          if (bytes.byteLength > 0) call.chunk(bytes, at);
        } catch (err) {
          reportSuppressed(err);
        }
      }
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(push, this, arguments) as boolean;
    };
    const finish = (how: 'done' | 'failed' | 'cancelled', err?: unknown) => {
      p.decoder?.close();
      p.decoder = undefined;
      if (how === 'done') call.done(now());
      else if (how === 'failed') call.failed(err, now());
      else call.cancelled(now());
    };
    res.once('end', () => safely(finish, 'done'));
    // No 'error' listener (it would change what an unhandled error does): at 'close', a response
    // that did not end either failed (the connection was cut: `errored`) or the client let it go.
    res.once('close', () => {
      if (call.isEnded) return;
      if (res.errored !== null && res.errored !== undefined) safely(finish, 'failed', res.errored);
      else if (res.complete) safely(finish, 'done');
      else safely(finish, 'cancelled');
    });
  }

  function onRequestError(message: unknown): void {
    const { request: req, error } = message as { request: ClientRequest; error: unknown };
    const p = pending.get(req);
    if (p === undefined || p === null) return;
    pending.delete(req);
    p.resolve(recorder).failed(error, now());
  }

  const subscribers: [string, (m: unknown) => void][] = [
    [RESPONSE_FINISH, onResponse],
    [REQUEST_ERROR, onRequestError],
  ].map(([name, fn]) => [
    name as string,
    (m: unknown) => {
      try {
        (fn as (m: unknown) => void)(m);
      } catch (err) {
        reportSuppressed(err);
      }
    },
  ]);
  for (const [name, fn] of subscribers) dc.subscribe(name, fn);
  Object.defineProperty(proto, 'write', { configurable: true, writable: true, enumerable: false, value: write });
  Object.defineProperty(proto, 'end', { configurable: true, writable: true, enumerable: false, value: end });
  return () => {
    for (const [name, fn] of subscribers) dc.unsubscribe(name, fn);
    // Only restore what is still ours: another library may have wrapped us since.
    for (const [name, ours, had] of [
      ['write', write, hadWrite],
      ['end', end, hadEnd],
    ] as const) {
      if (proto[name] !== ours) continue;
      if (had !== undefined) Object.defineProperty(proto, name, had);
      else delete proto[name];
    }
  };
}
