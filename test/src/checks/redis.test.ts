import { Redis } from 'ioredis';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisCheck } from '../../../src/checks/redis';
import { CheckScheduler } from '../../../src/checks/scheduler';
import type { DependencyCheck } from '../../../src/checks/types';
import { HungServer, ToggleProxy, closedPort } from '../../helpers/net';
import { sleep, tcpSockets, waitFor } from './wait';

const URL = 'redis://127.0.0.1:6379';
let admin: Redis;
const checks: DependencyCheck[] = [];
function keep(c: DependencyCheck): DependencyCheck {
  checks.push(c);
  return c;
}
const run = (c: DependencyCheck) => c.run(new AbortController().signal);

// Any 'error' event left unhandled would surface here (or crash the worker).
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  admin = new Redis(URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
});
afterEach(async () => {
  await Promise.all(checks.splice(0).map((c) => c.close?.()));
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  admin.disconnect();
});

describe('redisCheck', () => {
  it('passes against a healthy Redis: PING, a SET/GET/DEL round trip on an expiring key that is gone afterwards, INFO numbers', async () => {
    const monitor = await admin.monitor();
    // Other tests' Redis traffic can reach a fresh MONITOR connection before ioredis switches it to
    // monitor mode; ioredis reports that as an 'error' event, which must not fail this test.
    monitor.on('error', () => {});
    const sets: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'set' && args[1]?.startsWith('chatpulse:health:')) sets.push(args);
    });
    try {
      const c = keep(redisCheck({ url: URL }));
      expect(c).toMatchObject({ name: 'redis', component: 'redis', required: true, intervalMs: 15_000, timeoutMs: 2_000 });
      const r = await run(c);
      expect(r).toMatchObject({ status: 'pass', measurement: 'responseTime', unit: 'ms', threshold: '≤500ms' });
      const d = r.details as Record<string, unknown>;
      expect(d).toMatchObject({ target: 'redis://127.0.0.1:6379', connectionStatus: 'connected' });
      expect(d.version).toMatch(/^\d+\.\d+/);
      expect(d.usedMemoryBytes).toBeGreaterThan(0);
      expect(typeof d.maxMemoryBytes).toBe('number');
      expect(d.connectedClients).toBeGreaterThanOrEqual(2);
      expect(typeof d.pingMs).toBe('number');
      expect(typeof d.setGetDelMs).toBe('number');

      await waitFor(() => sets.length > 0, 1000, 'SET seen by MONITOR');
      const [, key, , px, ttl] = sets[0]!;
      expect(key).toMatch(/^chatpulse:health:[0-9a-f]{16}$/);
      expect(px!.toUpperCase()).toBe('PX');
      expect(Number(ttl)).toBeGreaterThan(0);
      expect(await admin.exists(key!)).toBe(0);
    } finally {
      monitor.disconnect();
    }
  });

  it("probes the app's client without closing it", async () => {
    const app = new Redis(URL, { lazyConnect: true });
    await app.connect();
    try {
      const c = keep(redisCheck({ client: app, writeCheck: false }));
      const r = await run(c);
      expect(r.status).toBe('pass');
      expect(r.details).not.toHaveProperty('setGetDelMs');
      await c.close!();
      expect(app.status).toBe('ready');
      const idle = new Redis(URL, { lazyConnect: true });
      const notConnected = await run(keep(redisCheck({ client: idle })));
      expect(notConnected).toMatchObject({ status: 'fail', message: 'client is not connected (status: wait)' });
    } finally {
      app.disconnect();
    }
  });

  it('fails fast when Redis is down, with no unhandled error event, and never reconnects in the background', async () => {
    const errorLog = vi.spyOn(console, 'error');
    try {
      const port = await closedPort();
      const c = keep(redisCheck({ url: `redis://127.0.0.1:${port}` }));
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const r = await run(c);
        expect(performance.now() - t0).toBeLessThan(500);
        expect(r.status).toBe('fail');
        expect(r.message).toBe(`cannot connect: connect ECONNREFUSED 127.0.0.1:${port}`);
      }
      expect(uncaught).toEqual([]);
      expect(errorLog.mock.calls.flat().join(' ')).not.toMatch(/ioredis/);
    } finally {
      errorLog.mockRestore();
    }

    // A server that drops every connection counts the attempts: one per run, none in between.
    let attempts = 0;
    const dropper = createServer((s) => {
      attempts++;
      s.destroy();
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    try {
      const c = keep(redisCheck({ url: `redis://127.0.0.1:${(dropper.address() as { port: number }).port}` }));
      expect((await run(c)).status).toBe('fail');
      await sleep(300);
      expect(attempts).toBe(1);
      expect((await run(c)).status).toBe('fail');
      expect(attempts).toBe(2);
    } finally {
      await new Promise((resolve) => dropper.close(resolve));
    }
    expect(uncaught).toEqual([]);
  });

  it('fails within its timeout on a hung Redis while results() answers at once', async () => {
    const hung = await new HungServer(false).listen();
    const s = new CheckScheduler([keep(redisCheck({ url: `redis://127.0.0.1:${hung.port}`, timeoutMs: 500, intervalMs: 60_000 }))]);
    const sockets = tcpSockets();
    try {
      const t0 = performance.now();
      s.start();
      const t1 = performance.now();
      expect(s.results()[0]).toMatchObject({ status: 'warn', message: 'not checked yet' });
      expect(performance.now() - t1).toBeLessThan(5);
      const r = await waitFor(() => s.result('redis')?.status === 'fail' && s.result('redis'), 2000, 'fail');
      expect(performance.now() - t0).toBeLessThan(500 + 400);
      expect(r.message).toMatch(/timed out after 500 ms/);
      expect(hung.connections).toBe(1);
      // The abandoned connection is destroyed, not half-closed waiting for a FIN the hung server would never send.
      // (The hung server's own end of it stays open in this process: it never reads the FIN.)
      await waitFor(() => tcpSockets() <= sockets + hung.open, 200, 'client socket released');
    } finally {
      await s.stop();
      await hung.close();
    }
  });

  it('recovers when Redis comes back, reconnecting on its own schedule', async () => {
    const proxy = await new ToggleProxy(6379).up();
    const c = keep(redisCheck({ url: `redis://127.0.0.1:${proxy.port}`, timeoutMs: 500 }));
    try {
      expect((await run(c)).status).toBe('pass');
      await proxy.down();
      const down = await run(c);
      expect(down.status).toBe('fail');
      await proxy.up();
      expect((await run(c)).status).toBe('pass');
    } finally {
      await proxy.down();
    }
    expect(uncaught).toEqual([]);
  });

  it('never reports the password', async () => {
    const port = await closedPort();
    const c = keep(redisCheck({ url: `redis://default:S3cretPass@127.0.0.1:${port}/0` }));
    const r = await run(c);
    expect(r.status).toBe('fail');
    expect(r.details!.target).toBe(`redis://default:***@127.0.0.1:${port}/0`);
    expect(JSON.stringify({ c, r })).not.toContain('S3cretPass');
    // A wrong password against the real server: the error names no secret either.
    const wrong = await run(keep(redisCheck({ url: 'redis://:S3cretPass@127.0.0.1:6379' })));
    expect(JSON.stringify(wrong)).not.toContain('S3cretPass');
  });
});
