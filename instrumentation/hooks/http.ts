import { now as clock } from '../clock';
import * as dc from 'node:diagnostics_channel';
import { OutgoingMessage, ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { InstrumentationConfig } from '../config/env';
import { normalizeMethod, type Recorder, type RouteSeries } from '../metrics/recorder';
import type { StreamOutcome } from '../metrics/catalog';
import { BodyDecoder } from '../streams/body-decoder';
import {
  KIND_AUDIO,
  KIND_DATA_STREAM,
  KIND_NDJSON,
  KIND_NONE,
  KIND_OPAQUE,
  KIND_SSE,
  KIND_TEXT,
  streamKindOf,
  type StreamKind,
} from '../streams/content-type';
import { classifyErrorPayload } from '../streams/error-classifier';
import { aiSdkData } from '../streams/formats/ai-sdk-data';
import { aiSdkUi } from '../streams/formats/ai-sdk-ui';
import type { StreamFacts } from '../streams/formats/frame';
import { StreamRules } from '../streams/formats/rules';
import { LineParser } from '../streams/line-parser';
import { SIGNAL_AUDIO, SIGNAL_ERROR, SIGNAL_TOKEN, SseParser } from '../streams/sse-parser';
import { TrackedStream } from '../streams/tracked-stream';
import { FirstTokenLink, requestLinks } from '../genai/request-link';
import { isInternalServer } from './internal-server';
import { responseStates } from './response-states';
import { reportSuppressed } from './safely';

const REQUEST_START = 'http.server.request.start';
const RESPONSE_FINISH = 'http.server.response.finish';
/** Fastify (4.x late, 5) publishes each matched route's handler here, with its template. */
const FASTIFY_HANDLER_START = 'tracing:fastify.request.handler:start';
const kSocketRequests = Symbol.for('chatpulse.http.socket-requests');

/**
 * What we know of one in-flight request; found from its ServerResponse through `states`.
 *
 * Why it carries request, response and socket: Node and Express give each request's objects maps
 * that V8 has not seen before, so the first read of a property on them from our code usually misses
 * the megamorphic inline cache and costs a runtime call (`node bench/ic-misses.js`). The hook reads
 * what it needs from the diagnostics-channel messages and its own arguments instead.
 */
class RequestState {
  kind: StreamKind = KIND_NONE;
  classified = false;
  /** Set by untrackResponse(): Chatpulse's own event streams are not chatbot streams. */
  untracked = false;
  closed = false;
  /** Status code passed to writeHead (0 until headers are written). */
  status = 0;
  route: RouteSeries | undefined;
  /** The route template a framework other than Express reported (Fastify). */
  template: string | undefined;
  stream: TrackedStream | undefined;
  parser: EventParser | undefined;
  /** The body's Content-Encoding decoder, when the response is compressed. */
  decoder: BodyDecoder | undefined;
  /** KIND_TEXT: when its first non-empty write left (-1 before); the second makes it a stream. */
  textFirstAt = -1;
  /** The request's link to the model call its stream waits for (config.firstTokenBreakdown). */
  link: FirstTokenLink | undefined;

  constructor(
    readonly startedAt: number,
    readonly method: string,
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
    readonly socket: Socket,
    /** The open requests of this connection (several when pipelined), for an abort. */
    readonly peers: RequestState[],
  ) {}
}

type TrackedSocket = Socket & { [kSocketRequests]?: RequestState[] };

/** What the SSE and line parsers share: feed a chunk, get FRAME_* bits, read counts and facts. */
interface EventParser {
  feed(chunk: string | Uint8Array): number;
  content: number;
  errorData: string | undefined;
  readonly facts: StreamFacts;
}

/** In-flight requests by response (see response-states.ts for why not a property). */
const states = responseStates as WeakMap<object, RequestState>;

/** Express (and routers following its conventions, NestJS on Express) leave the matched template on `req.route`. */
export function routeTemplate(req: IncomingMessage | undefined): string | undefined {
  const r = (req as { route?: { path?: unknown } } | undefined)?.route;
  if (r === undefined || r === null || r.path === undefined) return undefined;
  const path = Array.isArray(r.path) ? String(r.path[0]) : String(r.path);
  return ((req as { baseUrl?: string }).baseUrl ?? '') + path;
}

// Called through the prototype's own function: looking `getHeader` up on a response misses (see RequestState).
const getHeader = OutgoingMessage.prototype.getHeader;

/** A response header (lower-case `name`) from writeHead's arguments, else from the response. */
function headerFromArgs(name: string, a1: unknown, a2: unknown, res: ServerResponse): unknown {
  // writeHead(status[, statusMessage][, headers]); headers may be an object or a flat/nested array.
  const headers = typeof a1 === 'string' ? a2 : a1;
  if (headers !== null && typeof headers === 'object') {
    if (Array.isArray(headers)) {
      const flat = Array.isArray(headers[0]) ? (headers as unknown[][]).flat() : headers;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        if (String(flat[i]).toLowerCase() === name) return flat[i + 1];
      }
    } else {
      for (const k of Object.keys(headers)) {
        if (k.length === name.length && k.toLowerCase() === name) return (headers as Record<string, unknown>)[k];
      }
    }
  }
  return getHeader.call(res, name);
}

/** A header's value as one lower-case token ('' when absent). */
function headerToken(v: unknown): string {
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'string' ? v.trim().toLowerCase() : v === undefined || v === null ? '' : String(v);
}

/** The client went away first: it closed its side (FIN) or reset the connection. */
function clientAborted(socket: Socket): boolean {
  if (socket.readableEnded) return true;
  const code = (socket.errored as NodeJS.ErrnoException | null | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

/**
 * Installs the HTTP server hook: request start through Node's diagnostics channel, stream
 * detection and first-token/first-audio timing through ServerResponse.prototype. Every patched
 * method calls the original first-class and swallows only its own failures.
 */
export function installHttpHook(recorder: Recorder, config: InstrumentationConfig): () => void {
  const proto = ServerResponse.prototype;
  const origWriteHead = proto.writeHead;
  const origWrite = proto.write;
  const origEnd = proto.end;
  // Built once: every stream's parser shares the formats and name lists.
  const rules = new StreamRules(config.sse);
  const breakdown = config.firstTokenBreakdown;

  /**
   * What a write or end passes to the client, read once it has left. The whole path lives here, in
   * a function too large for V8 to inline into the app's code: the wrappers that call it stay a few
   * bytes inside the app's functions, whose inlining budget (~920 bytes of bytecode) is theirs.
   */
  function observe(res: ServerResponse, chunk: unknown, encoding: unknown): void {
    const st = states.get(res);
    if (st === undefined || st.kind === KIND_NONE || st.kind === KIND_OPAQUE) return;
    try {
      const stream = st.stream;
      if (stream !== undefined && stream.isEnded) return;
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return;
      let data: string | Uint8Array =
        typeof chunk === 'string' && typeof encoding === 'string' && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding as BufferEncoding) : chunk;
      const decoder = st.decoder;
      if (decoder !== undefined) {
        // The time of what the plain bytes carry is the time these compressed bytes are written.
        const plain = decoder.decode(typeof data === 'string' ? Buffer.from(data) : data);
        if (plain === undefined) {
          st.decoder = undefined;
          st.kind = KIND_OPAQUE;
          return;
        }
        if (plain.length === 0) return;
        data = plain;
      }
      switch (st.kind) {
        case KIND_SSE:
        case KIND_NDJSON:
        case KIND_DATA_STREAM: {
          const parser = st.parser!;
          const signals = parser.feed(data);
          if (signals === 0) return;
          // The clock is read only when a signal arrived, not on every write.
          const now = clock();
          if (signals & SIGNAL_TOKEN) {
            stream!.content(now, parser.content);
            parser.content = 0;
          }
          if (signals & SIGNAL_AUDIO) stream!.firstAudio(now);
          if (signals & SIGNAL_ERROR && !stream!.errorCounted) stream!.error(parser.facts.errorType ?? classifyErrorPayload(parser.errorData));
          return;
        }
        case KIND_AUDIO: {
          if (stream!.hasAudio) return;
          const len = typeof data === 'string' ? data.length : data.byteLength;
          if (len > 0) stream!.firstAudio(clock());
          return;
        }
        case KIND_TEXT: {
          const len = typeof data === 'string' ? data.length : data.byteLength;
          if (len === 0) return;
          const now = clock();
          if (stream === undefined) {
            // One write is a plain response; the second makes it a stream whose first token was the first.
            if (st.textFirstAt < 0) {
              st.textFirstAt = now;
              return;
            }
            const promoted = new TrackedStream(recorder, st.route!, st.startedAt, st.link);
            st.stream = promoted;
            promoted.content(st.textFirstAt, 1);
            promoted.content(now, 1);
            return;
          }
          stream.content(now, 1);
          return;
        }
      }
    } catch (err) {
      reportSuppressed(err);
    }
  }

  function classify(res: ServerResponse, st: RequestState, a0: unknown, a1: unknown, a2: unknown): void {
    st.classified = true;
    const status = typeof a0 === 'number' ? a0 : res.statusCode;
    st.status = status;
    // 2xx streams, and 5xx ones (a stream the server failed); redirects and client errors are not streams.
    if (status < 200 || (status >= 300 && status < 500)) return;
    let kind = streamKindOf(headerFromArgs('content-type', a1, a2, res));
    if (kind === KIND_NONE || st.untracked) return;
    let parser: EventParser | undefined;
    if (kind === KIND_SSE) {
      const ui = headerFromArgs('x-vercel-ai-ui-message-stream', a1, a2, res) !== undefined;
      parser = new SseParser(rules, ui ? aiSdkUi : undefined);
    } else if (kind === KIND_NDJSON) {
      parser = new LineParser(rules, undefined, false);
    } else if (kind === KIND_TEXT) {
      if (headerFromArgs('x-vercel-ai-data-stream', a1, a2, res) !== undefined || rules.forced === aiSdkData) {
        kind = KIND_DATA_STREAM;
        parser = new LineParser(rules, aiSdkData, true);
      } else if (headerFromArgs('content-length', a1, a2, res) !== undefined) return;
    }
    const encoding = headerToken(headerFromArgs('content-encoding', a1, a2, res));
    if (encoding !== '' && encoding !== 'identity') {
      st.decoder = BodyDecoder.create(encoding);
      if (st.decoder === undefined) kind = KIND_OPAQUE;
    }
    st.kind = kind;
    st.parser = parser;
    st.route = recorder.route(st.template ?? routeTemplate(st.request));
    // A text response becomes a stream only on its second write (observe).
    if (kind !== KIND_TEXT) st.stream = new TrackedStream(recorder, st.route, st.startedAt, st.link);
  }

  function writeHead(this: ServerResponse, a0: unknown, a1: unknown, a2: unknown) {
    // Classify only after the original accepted the headers: a writeHead that throws (bad
    // headers) is followed by an error response, which is not a stream.
    const ret = origWriteHead.apply(this, arguments as unknown as Parameters<typeof origWriteHead>);
    const st = states.get(this);
    if (st !== undefined && !st.classified) {
      try {
        classify(this, st, a0, a1, a2);
      } catch (err) {
        reportSuppressed(err);
      }
    }
    return ret;
  }

  // write and end are the hottest paths: no rest-args wrapper, the reading out of line (observe).
  function write(this: ServerResponse, chunk: unknown, encoding: unknown) {
    const ret = origWrite.apply(this, arguments as unknown as Parameters<typeof origWrite>);
    observe(this, chunk, encoding);
    return ret;
  }

  function end(this: ServerResponse, chunk: unknown, encoding: unknown) {
    const ret = origEnd.apply(this, arguments as unknown as Parameters<typeof origEnd>);
    observe(this, chunk, encoding);
    return ret;
  }

  /**
   * The end of a request: `finished` when Node flushed the whole response (the finish channel),
   * otherwise its connection closed first (client abort, reset, or the server destroyed it).
   */
  function closeRequest(st: RequestState, finished: boolean): void {
    if (st.closed) return;
    st.closed = true;
    // Later writes (a handler still writing after an abort) find no state and cost one lookup.
    states.delete(st.response);
    const now = clock();
    const peers = st.peers;
    const i = peers.indexOf(st);
    if (i !== -1) {
      peers[i] = peers[peers.length - 1]!;
      peers.pop();
    }
    const status = st.status !== 0 ? st.status : st.response.statusCode;
    const route = st.route ?? recorder.route(st.template ?? routeTemplate(st.request));
    recorder.requestFinished(st.method, route, status, (now - st.startedAt) / 1000);
    st.decoder?.close();
    const stream = st.stream;
    if (stream !== undefined) {
      const facts = st.parser?.facts;
      if (facts !== undefined) stream.usage(facts.inputTokens, facts.outputTokens);
      let outcome: StreamOutcome;
      if (!finished) outcome = clientAborted(st.socket) ? 'aborted' : 'failed';
      else outcome = status >= 500 ? 'failed' : 'completed';
      if (outcome === 'failed' && !stream.errorCounted) stream.error('http');
      stream.end(outcome, now);
    } else if (status >= 500) {
      recorder.error(status === 504 ? 'timeout' : 'http');
    } else if (status === 400 || status === 422) {
      recorder.error('validation');
    }
  }

  function onResponseFinish(message: unknown): void {
    const st = states.get((message as { response: ServerResponse }).response);
    if (st !== undefined) closeRequest(st, true);
  }

  /** One listener per connection, not per response: keep-alive connections carry many requests. */
  function onSocketClose(this: TrackedSocket): void {
    const open = this[kSocketRequests];
    if (open === undefined) return;
    for (const st of open.splice(0)) {
      try {
        closeRequest(st, false);
      } catch (err) {
        reportSuppressed(err);
      }
    }
  }

  function onRequestStart(message: unknown): void {
    const { request, response, socket, server } = message as {
      request: IncomingMessage;
      response: ServerResponse;
      socket: TrackedSocket;
      server: unknown;
    };
    if (isInternalServer(server)) return;
    let peers = socket[kSocketRequests];
    if (peers === undefined) {
      peers = [];
      socket[kSocketRequests] = peers;
      socket.once('close', onSocketClose);
    }
    const method = normalizeMethod(request.method);
    const st = new RequestState(clock(), method, request, response, socket, peers);
    peers.push(st);
    states.set(response, st);
    if (breakdown) {
      // Published synchronously before the server emits 'request': the handler and everything it
      // awaits run in the context entered here (the next request of the connection enters its own).
      st.link = new FirstTokenLink();
      requestLinks.enterWith(st.link);
    }
    recorder.requestStarted(method);
  }
  // Once per request: an inline try/catch, not safely()'s rest-args call.
  const subscriber = (message: unknown) => {
    try {
      onRequestStart(message);
    } catch (err) {
      reportSuppressed(err);
    }
  };
  const fastifySubscriber = (message: unknown) => {
    try {
      const m = message as { reply?: { raw?: unknown }; route?: { url?: unknown } };
      const st = m.reply?.raw === undefined ? undefined : states.get(m.reply.raw as object);
      if (st !== undefined && typeof m.route?.url === 'string') st.template = m.route.url;
    } catch (err) {
      reportSuppressed(err);
    }
  };
  const finishSubscriber = (message: unknown) => {
    try {
      onResponseFinish(message);
    } catch (err) {
      reportSuppressed(err);
    }
  };

  proto.writeHead = writeHead as typeof proto.writeHead;
  proto.write = write as typeof proto.write;
  proto.end = end as typeof proto.end;
  dc.subscribe(REQUEST_START, subscriber);
  dc.subscribe(RESPONSE_FINISH, finishSubscriber);
  dc.subscribe(FASTIFY_HANDLER_START, fastifySubscriber);

  return () => {
    dc.unsubscribe(REQUEST_START, subscriber);
    dc.unsubscribe(RESPONSE_FINISH, finishSubscriber);
    dc.unsubscribe(FASTIFY_HANDLER_START, fastifySubscriber);
    // Only restore what is still ours: another library may have wrapped us since.
    if (proto.writeHead === (writeHead as unknown)) proto.writeHead = origWriteHead;
    if (proto.write === (write as unknown)) proto.write = origWrite;
    if (proto.end === (end as unknown)) proto.end = origEnd;
  };
}
