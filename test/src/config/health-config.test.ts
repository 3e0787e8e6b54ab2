import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HealthConfigError, resolveHealthConfig } from '../../../src/config/health-config';

const dir = mkdtempSync(path.join(tmpdir(), 'chatpulse-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

function error(fn: () => unknown): HealthConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HealthConfigError);
    return e as HealthConfigError;
  }
  throw new Error('expected a HealthConfigError');
}

describe('resolveHealthConfig', () => {
  it("defaults to the KPI table's thresholds, a 5 minute window and the default rate limits", () => {
    const c = resolveHealthConfig({}, {});
    expect(c.port).toBeUndefined();
    expect(c.windowMs).toBe(300_000);
    expect(c.thresholds.timeToFirstToken).toEqual({ target: 0.5, warn: 1, fail: 2 });
    expect(c.thresholds.ttsCacheHitRate).toEqual({ target: 0.5, warn: 0.3, fail: 0.1 });
    expect(c.rateLimits['/api/v1/health']).toEqual({ limit: 60, windowMs: 60_000 });
    expect(c.rateLimits['/api/v1/health/ready']).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.thresholds.timeToFirstToken)).toBe(true);
  });

  it('reads YAML and JSON files, with env overriding the file', () => {
    const yaml = file('h.yaml', 'window: 30s\nminSamples: 5\nthresholds:\n  timeToFirstToken: { warn: 1.5, fail: 3 }\nupstreams:\n  - name: llm\n    url: http://127.0.0.1:9/health\n    required: true\n');
    const c = resolveHealthConfig({}, { CHATPULSE_HEALTH_CONFIG: yaml, CHATPULSE_KPI_TIME_TO_FIRST_TOKEN_FAIL: '4', CHATPULSE_HEALTH_PORT: '9999' });
    expect(c.windowMs).toBe(30_000);
    expect(c.minSamples).toBe(5);
    expect(c.thresholds.timeToFirstToken).toEqual({ target: 0.5, warn: 1.5, fail: 4 });
    expect(c.upstreams[0]).toMatchObject({ name: 'llm', required: true });
    expect(c.port).toBe(9999);
    const json = file('h.json', JSON.stringify({ window: '2m', rateLimits: { '/api/v1/health': false } }));
    const j = resolveHealthConfig({}, { CHATPULSE_HEALTH_CONFIG: json, CHATPULSE_HEALTH_WINDOW: '45s' });
    expect(j.windowMs).toBe(45_000);
    expect(j.rateLimits['/api/v1/health']).toBeUndefined();
    expect(resolveHealthConfig({}, { CHATPULSE_HEALTH_RATE_LIMITS: 'off' }).rateLimits).toEqual({});
    expect(resolveHealthConfig({}, { CHATPULSE_HEALTH_RATE_LIMITS: '/api/v1/health=5/10s' }).rateLimits['/api/v1/health']).toEqual({ limit: 5, windowMs: 10_000 });
  });

  it('names the field of every invalid value', () => {
    expect(error(() => resolveHealthConfig({}, { CHATPULSE_HEALTH_WINDOW: 'soon' })).field).toBe('CHATPULSE_HEALTH_WINDOW');
    expect(error(() => resolveHealthConfig({}, { CHATPULSE_HEALTH_PORT: '70000' })).field).toBe('CHATPULSE_HEALTH_PORT');
    expect(error(() => resolveHealthConfig({ thresholds: { timeToFirstToken: { warn: 3, fail: 2 } } }, {})).field).toBe('thresholds.timeToFirstToken');
    expect(error(() => resolveHealthConfig({ thresholds: { kbCacheHitRate: { warn: 0.1, fail: 0.2 } } }, {})).message).toMatch(/target ≥ warn ≥ fail/);
    expect(error(() => resolveHealthConfig({ thresholds: { ttft: {} } as never }, {})).field).toBe('thresholds.ttft');
    expect(error(() => resolveHealthConfig({ thresholds: { cpu: { warn: 'high' as unknown as number } } }, {})).field).toBe('thresholds.cpu.warn');
    expect(error(() => resolveHealthConfig({ windw: '5m' } as never, {})).field).toBe('windw');
    expect(error(() => resolveHealthConfig({}, { CHATPULSE_KPI_CPU_WARN: '-1' })).field).toBe('CHATPULSE_KPI_CPU_WARN');
    expect(error(() => resolveHealthConfig({}, { CHATPULSE_HEALTH_RATE_LIMITS: 'lots' })).field).toBe('CHATPULSE_HEALTH_RATE_LIMITS');
    expect(error(() => resolveHealthConfig({ upstreams: [{ name: 'llm', url: 'not a url' }] }, {})).field).toBe('upstreams[0].url');
    const bad = file('bad.yaml', 'window: [unclosed');
    expect(error(() => resolveHealthConfig({}, { CHATPULSE_HEALTH_CONFIG: bad })).field).toBe(bad);
    expect(error(() => resolveHealthConfig({}, { CHATPULSE_HEALTH_CONFIG: path.join(dir, 'missing.yaml') })).message).toMatch(/ENOENT/);
  });

  it('never echoes a connection string in an error', () => {
    const e = error(() => resolveHealthConfig({}, { DATABASE_URL: 'mysql://root:Sup3rSecret@db/x' }));
    expect(e.field).toBe('DATABASE_URL');
    expect(e.message).not.toContain('Sup3rSecret');
  });

  it('takes DATABASE_URL as a required dependency and REDIS_URL as optional by default', () => {
    const c = resolveHealthConfig({}, { DATABASE_URL: 'postgres://u:p@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1:6379', CHATPULSE_UPSTREAMS: 'llm=http://127.0.0.1:1/h,tts=http://127.0.0.1:2/h' });
    expect(c.database).toMatchObject({ required: true });
    expect(c.redis).toMatchObject({ required: false });
    expect(c.upstreams.map((u) => u.name)).toEqual(['llm', 'tts']);
    expect(resolveHealthConfig({}, { REDIS_URL: 'redis://x:6379', CHATPULSE_REDIS_REQUIRED: 'true' }).redis!.required).toBe(true);
  });

  it('takes a Redis Cluster by its seed nodes, from REDIS_CLUSTER_NODES or the file, in place of REDIS_URL', () => {
    const fromEnv = resolveHealthConfig({}, { REDIS_CLUSTER_NODES: ' redis://a:7000, rediss://u:pw@b:7001 ', CHATPULSE_REDIS_REQUIRED: 'true' }).redis!;
    expect(fromEnv).toEqual({ url: 'redis://a:7000', clusterNodes: ['redis://a:7000', 'rediss://u:pw@b:7001'], required: true, intervalMs: 10_000, timeoutMs: 2_000 });
    expect(Object.isFrozen(fromEnv.clusterNodes)).toBe(true);
    const fromFile = resolveHealthConfig({ redis: { clusterNodes: ['redis://a:7000'], timeout: '500ms' } }, {}).redis!;
    expect(fromFile).toMatchObject({ clusterNodes: ['redis://a:7000'], required: false, timeoutMs: 500 });

    let e = error(() => resolveHealthConfig({}, { REDIS_CLUSTER_NODES: 'redis://a:7000,http://u:Sup3rSecret@b:7001' }));
    expect(e.field).toBe('REDIS_CLUSTER_NODES');
    expect(e.message).toMatch(/expected a redis: or rediss: URL/);
    expect(e.message).not.toContain('Sup3rSecret');
    e = error(() => resolveHealthConfig({}, { REDIS_CLUSTER_NODES: 'redis://a:7000', REDIS_URL: 'redis://c:6379' }));
    expect(e.field).toBe('REDIS_CLUSTER_NODES');
    expect(e.message).toMatch(/unset REDIS_URL/);
    e = error(() => resolveHealthConfig({ redis: { clusterNodes: [] } }, {}));
    expect(e.field).toBe('redis.clusterNodes');
    e = error(() => resolveHealthConfig({ redis: { clusterNodes: ['redis://a:7000', 'nope'] } }, {}));
    expect(e.field).toBe('redis.clusterNodes[1]');
    expect(resolveHealthConfig({ redis: false }, { REDIS_CLUSTER_NODES: 'redis://a:7000' }).redis).toBeUndefined();
  });
});
