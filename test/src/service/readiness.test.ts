/**
 * Readiness groups: in-process, by default, required dependencies and event-loop saturation
 * decide (never a fleet-wide KPI such as latency), configurable per check, KPI and tag; the fleet server's
 * scope (FLEET_READINESS) only the `prometheus` check and shutting down. Signals come from the
 * real in-process window, fed through the recorder; dependency results are set by the test (the
 * interface PrometheusFleet and the check scheduler fill in production).
 */
import { describe, expect, it } from 'vitest';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { FLEET_READINESS } from '../../../src/fleet/fleet-health';
import { HealthService, type DependencyResult, type DependencySource } from '../../../src/service/health-service';
import { countsForReadiness, FULL_READINESS, readinessParser, type ReadinessScope } from '../../../src/service/readiness';
import { createHealth } from '../../../src/service/create-health';

class StaticDependencies implements DependencySource {
  list: DependencyResult[] = [];
  results() {
    return this.list;
  }
  start() {}
  async stop() {}
}

function dep(name: string, component: string, status: 'pass' | 'fail', message?: string): DependencyResult {
  return { name, component, measurement: 'x', status, required: true, time: new Date().toISOString(), ...(message ? { message } : {}) };
}

async function slowService(scope?: ReadinessScope, env: Record<string, string> = {}) {
  const recorder = new Recorder();
  const config = resolveHealthConfig({ hysteresis: 1, minSamples: 5 }, env);
  const deps = new StaticDependencies();
  const service = new HealthService({ config, signals: HealthService.windowSource(recorder, config), dependencies: deps, autoEvaluate: false, ...(scope ? { readiness: scope } : {}) });
  const route = recorder.route('/chat');
  for (let i = 0; i < 20; i++) recorder.firstToken(route, 2.6); // p95 2.6 s: fail (> 2 s)
  await service.evaluate();
  return { service, deps };
}

describe('readiness scope', () => {
  // Issue 16 changed the default: a latency KPI every replica shares no longer fails readiness.
  it('in-process (default): a failing latency KPI grades the service unhealthy but leaves it ready', async () => {
    const { service, deps } = await slowService();
    expect(service.report().status).toBe('unhealthy');
    expect(service.ready()).toEqual({ ready: true, status: 'healthy' });
    // A required dependency does fail it; an optional one never does.
    deps.list = [{ ...dep('redis', 'redis', 'fail'), required: false }];
    expect(service.ready().ready).toBe(true);
    deps.list = [dep('database', 'database', 'fail', 'connection refused')];
    expect(service.ready()).toEqual({ ready: false, status: 'unhealthy', reason: 'database: connection refused' });
    await service.close();
  });

  it('in-process (default): event-loop saturation fails readiness', async () => {
    const recorder = new Recorder();
    const config = resolveHealthConfig({ hysteresis: 1, minSamples: 1 }, {});
    const sampler = { read: () => ({ rssBytes: 1, memoryLimitBytes: 10, memoryUtilization: 0.1, heapUsedBytes: 1, heapLimitBytes: 10, cpuUserSeconds: 0, cpuSystemSeconds: 0, cpuUtilization: 0.1, eventLoopDelay: { p50: 0.9, p90: 0.9, p99: 0.9, max: 0.9, mean: 0.9 } }) };
    const service = new HealthService({ config, signals: HealthService.windowSource(recorder, config, sampler as never), autoEvaluate: false });
    await service.evaluate();
    const r = service.ready();
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(/^eventLoopDelay: /);
    await service.close();
  });

  it('readiness: kpis,required restores grading readiness on every KPI, naming the issue', async () => {
    const { service } = await slowService(undefined, { CHATPULSE_READINESS: 'kpis,required' });
    const r = service.ready();
    expect(r).toMatchObject({ ready: false, status: 'unhealthy' });
    expect(r.reason).toMatch(/^timeToFirstToken: Time to first token \(p95\) 2600ms breaches/);
    await service.close();
  });

  it('fleet server: the fleet failing its KPIs or reporting no instance leaves it ready; Prometheus failing or shutting down does not', async () => {
    const { service, deps } = await slowService(FLEET_READINESS);
    deps.list = [dep('prometheus', 'integrations', 'pass'), dep('instances', 'system', 'fail', 'no instance of service_name="x"')];
    expect(service.report().status).toBe('unhealthy');
    expect(service.ready()).toEqual({ ready: true, status: 'healthy' });

    deps.list = [dep('prometheus', 'integrations', 'fail', 'Prometheus at http://p:9090 is unreachable: ECONNREFUSED'), dep('instances', 'system', 'fail', 'unknown')];
    // Only what readiness answers for is in the reason.
    expect(service.ready()).toEqual({ ready: false, status: 'unhealthy', reason: 'prometheus: Prometheus at http://p:9090 is unreachable: ECONNREFUSED' });

    deps.list = [dep('prometheus', 'integrations', 'pass')];
    expect(service.ready().ready).toBe(true);
    service.beginShutdown();
    expect(service.ready()).toEqual({ ready: false, status: 'unhealthy', reason: 'shutting down' });
    await service.close();
  });

  it('a check named or tagged into the group counts as required; others are left out', async () => {
    const parse = (raw: unknown) => {
      const r = readinessParser(raw);
      if (!r.ok) throw new Error(r.reason);
      return r.value;
    };
    const { service, deps } = await slowService(parse(['redis', 'tag:core']));
    deps.list = [{ ...dep('redis', 'redis', 'fail', 'timeout'), required: false }, dep('database', 'database', 'fail')];
    // Only redis is in the group (database is not listed and `required` is absent), and it counts as required.
    expect(service.ready()).toEqual({ ready: false, status: 'unhealthy', reason: 'redis (optional): timeout' });
    deps.list = [dep('database', 'database', 'fail'), { ...dep('auth', 'integrations', 'fail', 'oauth down'), required: false, tags: ['core'] }];
    expect(service.ready()).toEqual({ ready: false, status: 'unhealthy', reason: 'auth (optional): oauth down' });
    await service.close();
  });

  it('rejects an unknown member at start, naming the setting', async () => {
    expect(readinessParser('required,Bad Name!').ok).toBe(false);
    expect(() => resolveHealthConfig({}, { CHATPULSE_READINESS: 'required,?' })).toThrow(/CHATPULSE_READINESS/);
    await expect(createHealth({ env: { CHATPULSE_READINESS: 'required,databse' }, config: { diskPath: '.' } })).rejects.toThrow(/readiness: unknown check "databse"/);
  });

  it('countsForReadiness: every dependency in the full scope, the named ones otherwise', () => {
    const p = dep('prometheus', 'integrations', 'pass');
    const i = dep('instances', 'system', 'pass');
    expect([countsForReadiness(FULL_READINESS, p), countsForReadiness(FULL_READINESS, i)]).toEqual([true, true]);
    expect([countsForReadiness(FLEET_READINESS, p), countsForReadiness(FLEET_READINESS, i)]).toEqual([true, false]);
  });
});
