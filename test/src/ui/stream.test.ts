import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import express, { type Response } from 'express';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isUntracked } from '../../../instrumentation/hooks/internal-server';
import { StatusFeed, type StatusFeedOptions } from '../../../src/ui/stream';
import { SseClient } from './sse-client';

let server: http.Server;
let url: string;
let feed: StatusFeed;
let snapshot: { n: number } | Error;
let closing = false;
const responses: Response[] = [];
const clients: SseClient[] = [];

async function start(o: Partial<StatusFeedOptions> = {}): Promise<void> {
  feed = new StatusFeed({
    snapshot: () => {
      if (snapshot instanceof Error) throw snapshot;
      return snapshot;
    },
    isClosing: () => closing,
    keepaliveMs: 0,
    coalesceMs: 10,
    ...o,
  });
  const app = express();
  app.get('/stream', (req, res) => {
    responses.push(res);
    feed.accept(req, res);
  });
  server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`;
}

async function open(headers: Record<string, string> = {}): Promise<SseClient> {
  const c = await SseClient.open(url, headers);
  clients.push(c);
  return c;
}

beforeEach(() => {
  snapshot = { n: 1 };
  closing = false;
  responses.length = 0;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  feed?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

describe('status page SSE feed', () => {
  it('answers with SSE headers, retry and a full snapshot at once, and is not counted as a chatbot stream', async () => {
    await start({ retryMs: 1234 });
    const c = await open();
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(c.headers['cache-control']).toBe('no-store');
    expect(c.headers['x-accel-buffering']).toBe('no');
    await c.until((x) => x.snapshots().length === 1, 2000, 'the first snapshot');
    expect(c.retry).toBe(1234);
    expect(c.body.startsWith('retry: 1234\n\n')).toBe(true);
    expect(c.snapshots()[0]).toEqual({ n: 1 });
    expect(c.events[0]!.id).toBe('0');
    expect(feed.size).toBe(1);
    expect(isUntracked(responses[0]!)).toBe(true);
  });

  it('sends one snapshot per burst of changes, to every client, with increasing ids', async () => {
    await start();
    const a = await open();
    const b = await open();
    await a.until((x) => x.snapshots().length === 1);
    await b.until((x) => x.snapshots().length === 1);
    snapshot = { n: 2 };
    feed.update();
    feed.update();
    feed.update();
    await a.until((x) => x.snapshots().length === 2);
    await b.until((x) => x.snapshots().length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.snapshots()).toEqual([{ n: 1 }, { n: 2 }]);
    expect(b.snapshots()).toEqual([{ n: 1 }, { n: 2 }]);
    expect(Number(a.events[1]!.id)).toBeGreaterThan(Number(a.events[0]!.id));
  });

  it('a reconnecting client (Last-Event-ID) simply gets the current snapshot again', async () => {
    await start();
    snapshot = { n: 7 };
    const c = await open({ 'last-event-id': '3' });
    await c.until((x) => x.snapshots().length === 1);
    expect(c.snapshots()).toEqual([{ n: 7 }]);
  });

  it('sends keepalive comments on an unref’d timer while clients are connected, and stops when they leave', async () => {
    await start({ keepaliveMs: 30 });
    const c = await open();
    await c.until((x) => x.comments.filter((k) => k === 'keepalive').length >= 2, 2000, 'two keepalives');
    const timer = (feed as unknown as { keepalive?: NodeJS.Timeout }).keepalive;
    expect(timer?.hasRef()).toBe(false);
    c.close();
    await waitFor(() => feed.size === 0);
    expect((feed as unknown as { keepalive?: NodeJS.Timeout }).keepalive).toBeUndefined();
  });

  it('refuses the stream over the limit with 503 and Retry-After, and frees the slot when a client leaves', async () => {
    await start({ maxClients: 2 });
    const a = await open();
    await open();
    await waitFor(() => feed.size === 2);
    const third = await open();
    await third.until((x) => x.ended, 2000, 'the 503 to end');
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('5');
    expect(JSON.parse(third.body).error).toMatch(/at most 2/);
    a.close();
    await waitFor(() => feed.size === 1);
    const fourth = await open();
    expect(fourth.status).toBe(200);
    await waitFor(() => feed.size === 2);
  });

  it('cleans up every client on close, whoever closes', async () => {
    await start();
    const cs = await Promise.all([open(), open(), open()]);
    await waitFor(() => feed.size === 3);
    cs[0]!.close();
    responses[1]!.destroy();
    await waitFor(() => feed.size === 1);
    feed.update(); // writing to the remaining one is fine
    await cs[2]!.until((x) => x.snapshots().length === 2);
  });

  it('before the first evaluation sends no snapshot, then the first one at the next update', async () => {
    await start();
    snapshot = new Error('HealthService.report() before the first evaluation');
    const c = await open();
    await c.until((x) => x.retry !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.snapshots()).toEqual([]);
    snapshot = { n: 3 };
    feed.update();
    await c.until((x) => x.snapshots().length === 1);
    expect(c.snapshots()).toEqual([{ n: 3 }]);
  });

  it('on shutdown sends the last snapshot, ends every stream and refuses new ones', async () => {
    await start();
    const c = await open();
    await c.until((x) => x.snapshots().length === 1);
    snapshot = { n: 9 };
    closing = true;
    feed.finish();
    await c.until((x) => x.ended, 2000, 'the stream to end');
    expect(c.snapshots().at(-1)).toEqual({ n: 9 });
    expect(feed.size).toBe(0);
    const late = await open();
    await late.until((x) => x.ended);
    expect(late.status).toBe(503);
    expect(JSON.parse(late.body).error).toMatch(/shutting down/);
  });

  it('drops a client that stops reading once too much is buffered', async () => {
    await start({ maxBufferedBytes: 64 * 1024 });
    const c = await open();
    await c.until((x) => x.snapshots().length === 1);
    // The client stops reading; big snapshots fill the socket buffers, then the feed's limit.
    (c as unknown as { res: http.IncomingMessage }).res.pause();
    snapshot = { n: 1, pad: 'x'.repeat(256 * 1024) } as unknown as { n: number };
    for (let i = 0; i < 200 && feed.size > 0; i++) {
      feed.update();
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(feed.size).toBe(0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
