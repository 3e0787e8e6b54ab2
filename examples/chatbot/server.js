'use strict';

// A streaming chatbot backend of the usual shape: Express, Server-Sent Events, a Redis cache
// in front of knowledge-base retrieval and text-to-speech, Postgres for conversation history.
// The LLM, retriever and TTS engine are simulated (lib/simulate.js) with realistic latencies and failures.

const http = require('node:http');
const { once } = require('node:events');
const { randomUUID } = require('node:crypto');
const express = require('express');
const { loadConfig } = require('./lib/config');
const { createLogger, describeError } = require('./lib/log');
const { createCache } = require('./lib/cache');
const { createStore, StoreUnavailableError } = require('./lib/store');
const { runChat, openSpeech, kbKey, LlmError, TtsError } = require('./lib/chat');
const { createOpenAiLlm } = require('./lib/llm-openai');

const MAX_MESSAGE_CHARS = 4000;
const CONVERSATION_ID = /^[\w.:-]{1,128}$/;
const MESSAGE_ID = /^\d{1,18}$/;
/** How long shutdown waits for open connections before cutting them. */
const SHUTDOWN_GRACE_MS = 5000;

class ValidationError extends Error {
  name = 'ValidationError';
}

/** Validated chat turn from a JSON body or a query string. */
function parseChatInput(source, conversationId = source.conversationId) {
  const { message } = source;
  if (typeof message !== 'string' || message.trim() === '') {
    throw new ValidationError('message must be a non-empty string');
  }
  if (message.length > MAX_MESSAGE_CHARS) {
    throw new ValidationError(`message must be at most ${MAX_MESSAGE_CHARS} characters`);
  }
  if (conversationId !== undefined && (typeof conversationId !== 'string' || !CONVERSATION_ID.test(conversationId))) {
    throw new ValidationError('conversationId must be 1-128 characters of letters, digits, _ . : -');
  }
  const audio = source.audio === true || source.audio === '1' || source.audio === 'true';
  return { conversationId: conversationId ?? randomUUID(), message: message.trim(), audio };
}

const sseEncoder = {
  contentType: 'text/event-stream',
  keepalive: ': ping\n\n',
  encode(event) {
    switch (event.type) {
      case 'token':
        return `data: ${JSON.stringify({ token: event.token })}\n\n`;
      case 'audio':
        return `event: audio\ndata: ${event.chunk.toString('base64')}\n\n`;
      case 'error':
        return `event: error\ndata: ${JSON.stringify(event.error)}\n\n`;
      case 'done':
        return `event: done\ndata: ${JSON.stringify(event.data)}\n\n`;
      default:
        throw new Error(`unknown chat event ${event.type}`);
    }
  },
};

const ndjsonEncoder = {
  contentType: 'application/x-ndjson',
  keepalive: null, // NDJSON has no comment syntax
  encode(event) {
    switch (event.type) {
      case 'token':
        return `${JSON.stringify({ type: 'token', token: event.token })}\n`;
      case 'audio':
        return `${JSON.stringify({ type: 'audio', audio: event.chunk.toString('base64') })}\n`;
      case 'error':
        return `${JSON.stringify({ type: 'error', error: event.error })}\n`;
      case 'done':
        return `${JSON.stringify({ type: 'done', ...event.data })}\n`;
      default:
        throw new Error(`unknown chat event ${event.type}`);
    }
  },
};

/** Writes a chunk, waiting for the socket to drain when the client reads slowly. */
function createWriter(res, signal) {
  return async (chunk) => {
    signal.throwIfAborted();
    if (!res.write(chunk)) await once(res, 'drain', { signal });
  };
}

/** Ends a response whose work was aborted, unless the client is already gone. */
function endAborted(res) {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) res.end();
  else res.status(503).json({ error: { type: 'unavailable', message: 'server is shutting down' } });
}

function errorStatus(err) {
  if (err instanceof ValidationError) return [400, 'validation'];
  if (err instanceof LlmError) return [502, 'llm'];
  if (err instanceof TtsError) return [502, 'tts'];
  if (err instanceof StoreUnavailableError) return [503, 'database'];
  // body-parser errors (malformed JSON, body too large) carry their own 4xx status.
  if (Number.isInteger(err.status) && err.status >= 400 && err.status < 500) return [err.status, 'validation'];
  return [500, 'internal'];
}

/**
 * Builds the Express app and its Redis and Postgres clients.
 * Returns { app, config, ready, drain, close }: `ready` resolves once the first Redis connection
 * attempt and the Postgres schema set-up have settled (it never rejects: both are optional);
 * `drain(graceMs)` answers new requests with 503, lets responses in progress finish for up to
 * `graceMs`, then ends the rest; `close()` drains
 * and closes the clients.
 */
function createApp(options = {}) {
  const config = loadConfig(options);
  const logger = options.logger ?? createLogger();
  const cache = createCache({ url: config.redisUrl, keyPrefix: config.redisKeyPrefix, logger });
  const store = createStore({ url: config.databaseUrl, logger });
  const llm = config.llmApi === 'openai' ? createOpenAiLlm(config) : undefined;
  const deps = { config, cache, store, llm };
  const inFlight = new Set();
  let draining = false;

  /** Abort signal for the work behind a response: fires when the client goes away or the server shuts down. */
  function track(res) {
    const controller = new AbortController();
    inFlight.add(controller);
    // The response's 'close' also fires when the request socket closes, i.e. on client disconnect.
    res.once('close', () => {
      inFlight.delete(controller);
      controller.abort();
    });
    return controller.signal;
  }

  async function stream(res, encoder, input) {
    const signal = track(res);
    res.status(200);
    res.setHeader('Content-Type', encoder.contentType);
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no'); // stops nginx from buffering the stream
    res.flushHeaders();
    const write = createWriter(res, signal);
    // Comments keep idle proxies and load balancers from timing out a slow stream.
    const keepalive =
      encoder.keepalive && config.pingIntervalMs > 0
        ? setInterval(() => res.writableEnded || res.write(encoder.keepalive), config.pingIntervalMs)
        : null;
    try {
      await runChat(deps, input, signal, (event) => write(encoder.encode(event)));
      res.end();
    } catch (err) {
      if (!signal.aborted) throw err; // headers are out: the error handler fails the stream
      endAborted(res);
    } finally {
      clearInterval(keepalive);
    }
  }

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    if (!draining) return next();
    res.setHeader('Connection', 'close'); // keep-alive clients must reconnect elsewhere
    res.status(503).json({ error: { type: 'unavailable', message: 'server is shutting down' } });
  });
  app.use(express.json({ limit: '32kb' }));

  app.get('/healthz', (req, res) => {
    res.json({ status: 'ok' });
  });

  app.post('/api/chat/stream', async (req, res) => {
    await stream(res, sseEncoder, parseChatInput({ ...req.query, ...req.body }));
  });

  app.get('/api/chat/:conversationId/stream', async (req, res) => {
    await stream(res, sseEncoder, parseChatInput(req.query, req.params.conversationId));
  });

  app.post('/api/chat/ndjson', async (req, res) => {
    await stream(res, ndjsonEncoder, parseChatInput({ ...req.query, ...req.body }));
  });

  app.post('/api/chat', async (req, res) => {
    const input = { ...parseChatInput(req.body ?? {}), audio: false };
    const signal = track(res);
    const tokens = [];
    let outcome = null;
    try {
      await runChat(deps, input, signal, async (event) => {
        if (event.type === 'token') tokens.push(event.token);
        else outcome = event;
      });
    } catch (err) {
      if (!signal.aborted) throw err;
      return endAborted(res);
    }
    if (outcome.type === 'error') res.status(502).json({ error: outcome.error });
    else res.json({ ...outcome.data, answer: tokens.join('') });
  });

  // Replays an assistant message as audio, streamed chunk by chunk as it is synthesized.
  app.get('/api/tts/:id', async (req, res) => {
    if (!MESSAGE_ID.test(req.params.id)) throw new ValidationError('id must be a message id');
    const text = await store.getAssistantMessage(req.params.id);
    if (text === null) {
      res.status(404).json({ error: { type: 'not_found', message: 'no assistant message with that id' } });
      return;
    }
    const signal = track(res);
    const write = createWriter(res, signal);
    try {
      const { chunks } = await openSpeech(deps, text, signal);
      for await (const chunk of chunks) {
        if (!res.headersSent) res.setHeader('Content-Type', 'audio/mpeg');
        await write(chunk);
      }
      res.end();
    } catch (err) {
      if (!signal.aborted) throw err;
      endAborted(res);
    }
  });

  app.use((req, res) => {
    res.status(404).json({ error: { type: 'not_found', message: `no route for ${req.method} ${req.path}` } });
  });

  // Express 5 routes rejected promises here, including errors thrown after a stream started.
  app.use((err, req, res, _next) => {
    const [status, type] = errorStatus(err);
    if (res.headersSent) {
      // Too late for an error status: fail the response so the client sees a broken stream, not a clean end.
      logger.error(`${req.method} ${req.path} failed mid-stream: ${describeError(err)}`);
      res.destroy();
      return;
    }
    if (status === 500) logger.error(`${req.method} ${req.path} failed: ${err.stack ?? describeError(err)}`);
    const message = status === 500 ? 'internal server error' : describeError(err);
    res.status(status).json({ error: { type, message } });
  });

  const ready = Promise.all([cache.connect(), store.init(), llm?.ready]).then(() => undefined);

  /**
   * New requests get 503 at once; answers in progress may finish for up to `graceMs`, then the
   * rest are cut. A deploy should not truncate answers users are reading.
   */
  async function drain(graceMs = 0) {
    draining = true;
    const deadline = Date.now() + graceMs;
    while (inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const controller of inFlight) controller.abort();
  }

  async function close() {
    drain();
    llm?.close();
    await Promise.all([cache.close(), store.close()]);
  }

  return { app, config, ready, drain, close };
}

/**
 * Starts the chatbot: waits for `ready`, listens on config.port (0 picks a free port).
 * Returns { app, server, port, close }; close() stops accepting connections, lets open streams
 * finish for up to 5 s (then cuts them) and closes Redis and Postgres.
 */
async function start(options = {}) {
  const logger = options.logger ?? createLogger();
  const chat = createApp({ ...options, logger });
  await chat.ready;

  const server = http.createServer(chat.app);
  server.listen(chat.config.port);
  try {
    await once(server, 'listening');
  } catch (err) {
    await chat.close();
    throw err;
  }
  const { port } = server.address();
  logger.info(`listening on http://localhost:${port}`);

  let closing = null;
  function close() {
    closing ??= (async () => {
      // Stop taking requests and drain the connections before closing the clients they use.
      const serverClosed = new Promise((resolve) => server.close(() => resolve()));
      // Ended streams leave keep-alive connections that turn idle a moment later: close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      await chat.drain(SHUTDOWN_GRACE_MS);
      const cut = setTimeout(() => server.closeAllConnections(), 1000);
      await serverClosed;
      clearInterval(sweep);
      clearTimeout(cut);
      await chat.close();
    })();
    return closing;
  }

  return { app: chat.app, server, port, close };
}

module.exports = { createApp, start, kbKey };

if (require.main === module) {
  const logger = createLogger();
  start({ logger }).then(
    ({ close }) => {
      let stopping = false;
      const shutdown = (signal) => {
        if (stopping) return; // a second Ctrl-C while draining changes nothing
        stopping = true;
        logger.info(`${signal} received, shutting down`);
        close().then(
          () => {
            logger.info('stopped');
            // Normally nothing is left and the process exits now; this covers a library that keeps a handle open.
            setTimeout(() => process.exit(0), 3000).unref();
          },
          (err) => {
            logger.error(`shutdown failed: ${describeError(err)}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
    },
    (err) => {
      logger.error(`cannot start: ${describeError(err)}`);
      process.exit(1);
    },
  );
}
