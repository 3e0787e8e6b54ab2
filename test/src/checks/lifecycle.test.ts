import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresCheck } from '../../../src/checks/postgres';
import { redisCheck } from '../../../src/checks/redis';
import { CheckScheduler } from '../../../src/checks/scheduler';
import { systemChecks } from '../../../src/checks/system';
import { upstreamCheck } from '../../../src/checks/upstream';
import { HungServer } from '../../helpers/net';
import { waitFor } from './wait';

let http: Server;
let llm: string;

beforeAll(async () => {
  http = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  llm = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1/models`;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

/** Handles that would keep the process alive: sockets, and ref'd timers. */
function handles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout');
}

describe('a scheduler with every kind of check', () => {
  it('runs them all in the background and stop() releases every connection and timer', async () => {
    const before = handles().length;
    const hung = await new HungServer().listen();
    const s = new CheckScheduler(
      [
        postgresCheck({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', intervalMs: 200 }),
        redisCheck({ url: 'redis://127.0.0.1:6379', intervalMs: 200 }),
        upstreamCheck({ name: 'llm', url: llm, intervalMs: 200 }),
        // A dependency that hangs while the scheduler stops.
        redisCheck({ name: 'redis:hung', url: `redis://127.0.0.1:${hung.port}`, intervalMs: 200, timeoutMs: 10_000, required: false }),
        ...systemChecks({ intervalMs: 200 }),
      ],
      { stopTimeoutMs: 2000 },
    );
    s.start();
    const names = ['database', 'redis', 'upstream:llm', 'system:memory', 'system:cpu', 'system:eventLoop', 'system:disk'];
    await waitFor(() => names.every((n) => s.result(n)?.message !== 'not checked yet'), 5000, 'first results');
    for (const n of names) expect(s.result(n)!.status, `${n}: ${s.result(n)!.message}`).not.toBe('fail');
    expect(s.stats('redis:hung')!.running).toBe(true);
    expect(s.result('redis:hung')!.message).toBe('not checked yet');

    expect(handles().length).toBeGreaterThan(before);

    const t0 = performance.now();
    await s.stop();
    // The hung run is aborted, not waited out.
    expect(performance.now() - t0).toBeLessThan(1000);
    await hung.close();
    await waitFor(() => handles().length <= before, 1000, `handles released (still: ${handles().join(', ')})`);
    const snapshot = JSON.stringify(s.results());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(JSON.stringify(s.results())).toBe(snapshot);
  });
});
