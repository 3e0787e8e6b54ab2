import type { Request, Response } from 'express';
import { untrackResponse } from '../../instrumentation/hooks/internal-server';

export interface StatusFeedOptions {
  /** The current snapshot (serialised to JSON once per broadcast). May throw before the first evaluation. */
  readonly snapshot: () => unknown;
  /** Concurrent streams; the next one gets 503 with Retry-After. Default 100. */
  readonly maxClients?: number;
  /** `: keepalive` comment interval, so proxies do not time out a quiet stream. Default 15 s. */
  readonly keepaliveMs?: number;
  /** The `retry:` field: how long a browser's EventSource waits before reconnecting. Default 3 s. */
  readonly retryMs?: number;
  /** Changes within this many ms are sent as one snapshot. Default 25. */
  readonly coalesceMs?: number;
  /** A client that does not read and has more than this buffered is dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** True while the service shuts down: new streams get 503. */
  readonly isClosing?: () => boolean;
  readonly logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

interface Client {
  readonly id: number;
  readonly res: Response;
}

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Accel-Buffering': 'no',
  'X-Content-Type-Options': 'nosniff',
  Connection: 'keep-alive',
});

/**
 * The status page's live feed: a Server-Sent Events stream of whole snapshots.
 *
 * - On connect: `retry:` and a `snapshot` event with everything the page shows. A reconnecting
 *   client (with `Last-Event-ID` or not) simply gets the current snapshot again: each one is
 *   complete, so nothing needs replaying.
 * - On every change (`update()`: an evaluation, a status change, an alert change): one `snapshot`
 *   event to every client, serialised once; changes within `coalesceMs` are sent together.
 * - `: keepalive` comments while clients are connected.
 * - Bounded: at most `maxClients` streams (then 503), and a client that stops reading is dropped
 *   once `maxBufferedBytes` are waiting. Every client is removed when its connection closes.
 * - Timers are unref'd: the feed never keeps a process alive.
 * - Responses are marked untracked: Chatpulse's own stream is never counted as a chatbot stream.
 */
export class StatusFeed {
  private readonly clients = new Set<Client>();
  private readonly maxClients: number;
  private readonly keepaliveMs: number;
  private readonly retryMs: number;
  private readonly coalesceMs: number;
  private readonly maxBuffered: number;
  private seq = 0;
  private nextClient = 0;
  private pending: NodeJS.Timeout | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: StatusFeedOptions) {
    this.maxClients = o.maxClients ?? 100;
    this.keepaliveMs = o.keepaliveMs ?? 15_000;
    this.retryMs = o.retryMs ?? 3_000;
    this.coalesceMs = o.coalesceMs ?? 25;
    this.maxBuffered = o.maxBufferedBytes ?? 1024 * 1024;
  }

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /** Serves one stream (the route handler). */
  accept(req: Request, res: Response): void {
    if (this.closed || this.o.isClosing?.() === true) {
      res.setHeader('Retry-After', '5');
      res.setHeader('Cache-Control', 'no-store');
      res.status(503).json({ error: 'the health service is shutting down', requestId: res.locals.requestId });
      return;
    }
    if (this.clients.size >= this.maxClients) {
      res.setHeader('Retry-After', '5');
      res.setHeader('Cache-Control', 'no-store');
      res.status(503).json({ error: `too many live status streams (at most ${this.maxClients}); retry later`, requestId: res.locals.requestId });
      this.o.logger?.warn({ limit: this.maxClients }, 'status page: stream refused, client limit reached');
      return;
    }
    untrackResponse(res);
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    res.status(200);
    for (const [k, v] of Object.entries(SSE_HEADERS)) res.setHeader(k, v);
    res.flushHeaders();
    const client: Client = { id: ++this.nextClient, res };
    this.clients.add(client);
    const remove = () => {
      if (!this.clients.delete(client)) return;
      if (this.clients.size === 0) this.stopKeepalive();
      this.o.logger?.debug({ client: client.id, open: this.clients.size }, 'status page: stream closed');
    };
    res.once('close', remove);
    res.once('error', remove);
    const snapshot = this.event();
    this.write(client, `retry: ${this.retryMs}\n\n${snapshot ?? ''}`);
    this.startKeepalive();
    this.o.logger?.debug({ client: client.id, open: this.clients.size, lastEventId: req.get('last-event-id') ?? null }, 'status page: stream opened');
  }

  /** Something changed: send a snapshot to every client (coalesced). */
  update(): void {
    if (this.closed || this.pending !== undefined) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.broadcast();
    }, this.coalesceMs);
    this.pending.unref();
  }

  /** Sends the current snapshot now, then ends every stream (the service is shutting down). */
  finish(): void {
    if (this.pending !== undefined) clearTimeout(this.pending);
    this.pending = undefined;
    this.broadcast();
    for (const c of [...this.clients]) c.res.end();
    this.clients.clear();
    this.stopKeepalive();
  }

  /** Ends every stream and refuses new ones. */
  close(): void {
    this.closed = true;
    if (this.pending !== undefined) clearTimeout(this.pending);
    this.pending = undefined;
    for (const c of [...this.clients]) c.res.end();
    this.clients.clear();
    this.stopKeepalive();
  }

  private broadcast(): void {
    if (this.clients.size === 0) return;
    this.seq++;
    const chunk = this.event();
    if (chunk === undefined) return;
    for (const c of [...this.clients]) this.write(c, chunk);
  }

  /** `id`, `event: snapshot` and the JSON (which never contains a raw newline). */
  private event(): string | undefined {
    let data: string;
    try {
      data = JSON.stringify(this.o.snapshot());
    } catch (err) {
      // Before the first evaluation there is nothing to show yet; the next update sends it.
      this.o.logger?.debug({ err: (err as Error).message }, 'status page: no snapshot yet');
      return undefined;
    }
    return `id: ${this.seq}\nevent: snapshot\ndata: ${data}\n\n`;
  }

  private write(c: Client, chunk: string): void {
    const res = c.res;
    if (res.writableEnded || res.destroyed) {
      this.clients.delete(c);
      return;
    }
    res.write(chunk);
    if (res.writableLength > this.maxBuffered) {
      this.o.logger?.warn({ client: c.id, buffered: res.writableLength }, 'status page: dropped a stream that stopped reading');
      this.clients.delete(c);
      res.destroy();
    }
  }

  private startKeepalive(): void {
    if (this.keepalive !== undefined || this.keepaliveMs <= 0) return;
    this.keepalive = setInterval(() => {
      for (const c of [...this.clients]) this.write(c, ': keepalive\n\n');
    }, this.keepaliveMs);
    this.keepalive.unref();
  }

  private stopKeepalive(): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive);
    this.keepalive = undefined;
  }
}
