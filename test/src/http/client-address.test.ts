/** Trusted proxies: the client address rate limits count by, behind zero, one or several proxies. */
import type { Request } from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { clientAddress, trustProxyParser, type TrustProxy } from '../../../src/http/client-address';
import { createHealthRouter } from '../../../src/http/router';
import { listenHealthServer, type HealthServer } from '../../../src/http/server';
import { HealthService } from '../../../src/service/health-service';
import { Recorder } from '../../../instrumentation/metrics/recorder';

const trust = (raw: unknown): TrustProxy => {
  const r = trustProxyParser(raw);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};
const req = (peer: string, xff?: string) => ({ ip: peer, socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as Request;

describe('clientAddress', () => {
  it('off (the default): the peer, whatever X-Forwarded-For says', () => {
    expect(clientAddress(req('10.0.0.5', '1.2.3.4'), trust(false))).toBe('10.0.0.5');
    expect(resolveHealthConfig({}, {}).trustProxy.kind).toBe('off');
  });

  it('a hop count trusts that many proxies, nearest first', () => {
    expect(clientAddress(req('10.0.0.5', '1.2.3.4'), trust(1))).toBe('1.2.3.4');
    expect(clientAddress(req('10.0.0.5', '9.9.9.9, 1.2.3.4, 10.0.0.9'), trust(2))).toBe('1.2.3.4');
    // fewer hops than trusted: the farthest address given
    expect(clientAddress(req('10.0.0.5', '1.2.3.4'), trust('3'))).toBe('1.2.3.4');
    expect(clientAddress(req('10.0.0.5'), trust(1))).toBe('10.0.0.5');
  });

  it('an address list walks X-Forwarded-For while the hop is trusted (a spoofed left part is ignored)', () => {
    const t = trust('loopback, 10.0.0.0/8');
    expect(clientAddress(req('::ffff:127.0.0.1', 'spoofed, 203.0.113.7, 10.1.2.3'), t)).toBe('203.0.113.7');
    expect(clientAddress(req('198.51.100.1', '203.0.113.7'), t)).toBe('198.51.100.1');
  });

  it('rejects what is not a hop count or an address list, naming the setting', () => {
    for (const bad of ['true', 'proxy.example', '10.0.0.0/33', '-1', [1]]) expect(trustProxyParser(bad).ok, String(bad)).toBe(false);
    expect(() => resolveHealthConfig({}, { CHATPULSE_HEALTH_TRUST_PROXY: 'everything' })).toThrow(/CHATPULSE_HEALTH_TRUST_PROXY/);
    expect(() => resolveHealthConfig({ trustProxy: '10.0.0.1/99' }, {})).toThrow(/trustProxy/);
  });
});

describe('rate limits behind a trusted proxy', () => {
  let server: HealthServer;
  let service: HealthService;
  beforeAll(async () => {
    const config = resolveHealthConfig({ rateLimits: { '/api/v1/health': { limit: 2, window: '1m' } } }, { CHATPULSE_HEALTH_TRUST_PROXY: 'loopback' });
    service = new HealthService({ config, signals: HealthService.windowSource(new Recorder(), config), autoEvaluate: false });
    server = await listenHealthServer(createHealthRouter({ service, logger: pino({ level: 'silent' }), serviceName: 't', version: '0' }), 0, '127.0.0.1');
  });
  afterAll(async () => {
    await server.close();
    await service.close();
  });

  it('counts each forwarded client in its own bucket', async () => {
    const get = (client: string) => fetch(`http://127.0.0.1:${server.address.port}/api/v1/health`, { headers: { 'x-forwarded-for': client } });
    expect((await get('203.0.113.1')).status).toBe(200);
    expect((await get('203.0.113.1')).status).toBe(200);
    const limited = await get('203.0.113.1');
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as Record<string, unknown>).code).toBe('CHATPULSE_ERR_RATE_LIMITED');
    expect((await get('203.0.113.2')).status).toBe(200);
  });
});
