/**
 * Readiness scopes: in-process every KPI and required dependency decides; the fleet server's
 * scope (FLEET_READINESS) only the `prometheus` check and shutting down. Signals come from the
 * real in-process window, fed through the recorder; dependency results are set by the test (the
 * interface PrometheusFleet and the check scheduler fill in production).
 */
import { describe, expect, it } from 'vitest';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { FLEET_READINESS } from '../../../src/fleet/fleet-health';
import { HealthService, type DependencyResult, type DependencySource } from '../../../src/service/health-service';
import { countsForReadiness, FULL_READINESS } from '../../../src/service/readiness';

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

async function slowService(scope?: typeof FLEET_READINESS) {
  const recorder = new Recorder();
  const config = resolveHealthConfig({ hysteresis: 1, minSamples: 5 }, {});
  const deps = new StaticDependencies();
  const service = new HealthService({ config, signals: HealthService.windowSource(recorder, config), dependencies: deps, autoEvaluate: false, ...(scope ? { readiness: scope } : {}) });
  const route = recorder.route('/chat');
  for (let i = 0; i < 20; i++) recorder.firstToken(route, 2.6); // p95 2.6 s: fail (> 2 s)
  await service.evaluate();
  return { service, deps };
}

describe('readiness scope', () => {
  it('in-process (default): a failing KPI makes the process not ready, naming every issue', async () => {
    const { service } = await slowService();
    expect(service.report().status).toBe('unhealthy');
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

  it('countsForReadiness: every dependency in the full scope, the named ones otherwise', () => {
    const p = dep('prometheus', 'integrations', 'pass');
    const i = dep('instances', 'system', 'pass');
    expect([countsForReadiness(FULL_READINESS, p), countsForReadiness(FULL_READINESS, i)]).toEqual([true, true]);
    expect([countsForReadiness(FLEET_READINESS, p), countsForReadiness(FLEET_READINESS, i)]).toEqual([true, false]);
  });
});
