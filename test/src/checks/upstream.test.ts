import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamCheck } from '../../../src/checks/upstream';
import { closedPort } from '../../helpers/net';

let server: Server;
let base: string;
const seen: IncomingMessage[] = [];
let aborted = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/ok') return void res.end('{"data":[]}');
    if (url.pathname === '/error') return void res.writeHead(500).end('boom');
    if (url.pathname === '/redirect') return void res.writeHead(302, { location: '/ok' }).end();
    if (url.pathname === '/delay') {
      const t = setTimeout(() => res.end('late'), Number(url.searchParams.get('ms')));
      res.on('close', () => {
        clearTimeout(t);
        if (!res.writableFinished) aborted++;
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const run = (c: ReturnType<typeof upstreamCheck>) => c.run(new AbortController().signal);

describe('upstreamCheck', () => {
  it('passes on 200 with the response time as value', async () => {
    const c = upstreamCheck({ name: 'llm', url: `${base}/ok` });
    expect(c).toMatchObject({ name: 'upstream:llm', component: 'integrations', required: false, intervalMs: 30_000, timeoutMs: 10_000 });
    const r = await run(c);
    expect(r).toMatchObject({ status: 'pass', measurement: 'responseTime', unit: 'ms', details: { statusCode: 200, method: 'GET' } });
    expect(r.value).toBeGreaterThan(0);
    expect(r.value).toBeLessThan(1000);
  });

  it('fails on an unexpected status, with the reason', async () => {
    const r = await run(upstreamCheck({ name: 'tts', url: `${base}/error` }));
    expect(r.status).toBe('fail');
    expect(r.message).toBe('unexpected status 500 (expected 2xx)');
    const ok = await run(upstreamCheck({ name: 'tts', url: `${base}/error`, expectedStatus: [500, 503] }));
    expect(ok.status).toBe('pass');
    const redirect = await run(upstreamCheck({ name: 'r', url: `${base}/redirect` }));
    expect(redirect.message).toBe('unexpected status 302 (expected 2xx)');
    const head = await run(upstreamCheck({ name: 'h', url: `${base}/ok`, method: 'HEAD', expectedStatus: 200 }));
    expect(head.status).toBe('pass');
    expect(seen.at(-1)!.method).toBe('HEAD');
  });

  it('warns when slower than slowMs', async () => {
    const r = await run(upstreamCheck({ name: 'llm', url: `${base}/delay?ms=120`, slowMs: 50 }));
    expect(r.status).toBe('warn');
    expect(r.message).toMatch(/^response time \d+ms > 50ms$/);
  });

  it('fails at its timeout and aborts the request', async () => {
    const before = aborted;
    const t0 = performance.now();
    const r = await run(upstreamCheck({ name: 'llm', url: `${base}/delay?ms=5000`, timeoutMs: 300 }));
    const elapsed = performance.now() - t0;
    expect(r.status).toBe('fail');
    expect(r.message).toBe('request failed: timed out after 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(800);
    await expect.poll(() => aborted, { timeout: 1000 }).toBe(before + 1);
  });

  it('fails on a network error with the cause', async () => {
    const t0 = performance.now();
    const r = await run(upstreamCheck({ name: 'llm', url: `http://127.0.0.1:${await closedPort()}/health` }));
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/^request failed: fetch failed: .*ECONNREFUSED/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('never reports credentials from the URL or headers, and still sends them', async () => {
    const url = `http://svcUser:S3cretPass@${base.slice(7)}/error?api_key=S3cretKey&model=m`;
    const c = upstreamCheck({ name: 'llm', url, headers: { authorization: 'Bearer S3cretToken', 'x-api-key': 'S3cretHeader' } });
    const r = await run(c);
    const json = JSON.stringify({ c, r });
    for (const secret of ['svcUser', 'S3cretPass', 'S3cretKey', 'S3cretToken', 'S3cretHeader']) expect(json).not.toContain(secret);
    expect(r.details!.url).toBe(`http://***@${base.slice(7)}/error?api_key=***&model=m`);
    const req = seen.at(-1)!;
    expect(req.headers.authorization).toBe('Bearer S3cretToken');
    expect(req.headers['x-api-key']).toBe('S3cretHeader');
    expect(req.url).toBe('/error?api_key=S3cretKey&model=m');

    // Userinfo becomes Basic auth, since fetch refuses credentials in URLs.
    await run(upstreamCheck({ name: 'llm', url: `http://svcUser:S3cretPass@${base.slice(7)}/ok` }));
    expect(seen.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('svcUser:S3cretPass').toString('base64')}`);

    const down = await run(upstreamCheck({ name: 'llm', url: `http://u:S3cretPass@127.0.0.1:${await closedPort()}/?token=S3cretKey` }));
    expect(down.status).toBe('fail');
    expect(JSON.stringify(down)).not.toMatch(/S3cret/);
  });
});
