/** The health resources' view builders, without a server: a report in, a body out. */
import { describe, expect, it } from 'vitest';
import { basicView, deepView, dependencyView, healthView, integrationsView } from '../../../../src/http/views/health';
import { dep, report } from './fixtures';

const meta = { serviceName: 'bot', version: '9.9.9' };
const memory = () => ({ rss: 1, heapUsed: 2, heapTotal: 3 });

describe('health views', () => {
  it('basic: status and timestamp only', () => {
    expect(basicView(report()).body).toEqual({ status: 'healthy', timestamp: '2026-01-01T00:00:00.000Z' });
  });

  it('full report: every section, issues, memory read only for the full report', () => {
    let reads = 0;
    const r = report({}, [dep('database', 'database', 'fail', true), dep('upstream:llm', 'integrations', 'warn', false)]);
    const v = healthView(r, undefined, meta, () => (reads++, memory()));
    expect(reads).toBe(1);
    expect(v.status).toBe('unhealthy');
    expect(Object.keys(v.body.services as object)).toEqual(['streaming', 'system', 'database', 'integrations']);
    expect((v.body.services as Record<string, { status: string }>).database!.status).toBe('unhealthy');
    expect((v.body.services as Record<string, { status: string }>).integrations!.status).toBe('degraded');
    expect(v.body).toMatchObject({ version: '9.9.9', service: 'bot', uptime: 93_784, metrics: { memory: memory() }, issues: ['database: database is down', 'upstream:llm: upstream:llm is down'] });
    const narrowed = healthView(r, 'redis', meta, () => (reads++, memory()));
    expect(reads).toBe(1);
    expect(narrowed.body).toEqual({ service: 'redis', status: 'healthy', timestamp: r.timestamp, checks: {} });
    expect(healthView(r, 'quick', meta, memory).body).toEqual(basicView(r).body);
  });

  it('deep: dependency details and the window, for health+json with details', () => {
    const r = report({}, [dep('redis', 'redis', 'pass', false, { details: { version: '7' } })]);
    const v = deepView(r, meta);
    expect(v.details).toBe(true);
    expect(v.body.dependencies).toEqual([{ name: 'redis', component: 'redis', status: 'pass', required: false, value: 4, unit: 'ms', checkedAt: r.timestamp, durationMs: 3, details: { version: '7' } }]);
    expect(v.body.window).toBe(r.snapshot);
  });

  it('one dependency: undefined when not configured; details only when asked', () => {
    const r = report({}, [dep('database', 'database', 'pass', true, { details: { pool: 1 } })]);
    expect(dependencyView(r, 'redis', false)).toBeUndefined();
    expect(dependencyView(r, 'database', false)!.body).toEqual({ service: 'database', status: 'healthy', required: true, value: 4, unit: 'ms', checkedAt: r.timestamp, durationMs: 3, timestamp: r.timestamp, metrics: { responseTime: 4 } });
    expect(dependencyView(r, 'database', true)!.body.details).toEqual({ pool: 1 });
  });

  it('integrations: a summary of passing and failing upstreams', () => {
    const r = report({}, [dep('upstream:llm', 'integrations', 'pass', false), dep('upstream:tts', 'integrations', 'fail', false)]);
    const v = integrationsView(r, false);
    expect(v.status).toBe('degraded');
    expect(v.body.summary).toEqual({ total: 2, passing: 1, failing: 1 });
  });
});
