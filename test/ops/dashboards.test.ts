/**
 * Grafana dashboards and their provisioning: every panel queries Prometheus through the
 * ${datasource} variable, the template variables exist, the KPI panels carry the KPI table's
 * thresholds, and every metric and label name exists in the catalog or the recording rules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allPanels, loadDashboards, queryPanels, variableQuery, type Dashboard, type Panel } from './lib/dashboards';
import { KPI_BINDINGS, expectedSteps, alertedKpis } from './lib/kpi';
import { checkNames, extractPromql, substituteGrafanaVariables } from './lib/promql';
import { DASHBOARDS, readYaml } from './lib/repo';
import { knownNames, loadRules, recordingRules } from './lib/rules';

const dashboards = loadDashboards();
const byUid = (uid: string): Dashboard => {
  const d = dashboards.find((x) => x.dashboard.uid === uid);
  if (!d) throw new Error(`no dashboard with uid ${uid}`);
  return d.dashboard;
};
const panel = (d: Dashboard, title: string): Panel => {
  const found = allPanels(d).filter((p) => p.title === title);
  expect(found, `panel "${title}" in ${d.uid}`).toHaveLength(1);
  return found[0]!;
};

describe('Grafana dashboards', () => {
  it('ship an overview and an SLO dashboard with unique uids and panel ids', () => {
    expect(dashboards.map((d) => d.dashboard.uid).sort()).toEqual(['chatpulse-overview', 'chatpulse-slo']);
    for (const { file, dashboard } of dashboards) {
      const ids = allPanels(dashboard).map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
    }
  });

  it('every panel has at least one target, and every target queries ${datasource}', () => {
    for (const { file, dashboard } of dashboards) {
      for (const p of allPanels(dashboard)) {
        if (p.type === 'row') {
          expect(p.targets ?? [], `${file}: row "${p.title}" has queries`).toEqual([]);
          continue;
        }
        const where = `${file}: panel "${p.title}"`;
        expect(p.targets?.length ?? 0, where).toBeGreaterThan(0);
        expect(p.datasource, where).toEqual({ type: 'prometheus', uid: '${datasource}' });
        for (const t of p.targets!) {
          expect(t.datasource, `${where} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
          expect(t.expr.trim(), `${where} ${t.refId}`).not.toBe('');
        }
        const refIds = p.targets!.map((t) => t.refId);
        expect(new Set(refIds).size, where).toBe(refIds.length);
      }
    }
  });

  it('define the datasource, service, instance and route template variables', () => {
    const vars = (d: Dashboard) => Object.fromEntries(d.templating.list.map((v) => [v.name, v]));
    const overview = vars(byUid('chatpulse-overview'));
    expect(Object.keys(overview).sort()).toEqual(['datasource', 'instance', 'route', 'service']);
    expect(overview.datasource!.type).toBe('datasource');
    expect(overview.datasource!.query).toBe('prometheus');
    expect(variableQuery(overview.service!)).toMatch(/^label_values\([a-z_]+, service_name\)$/);
    expect(variableQuery(overview.instance!)).toMatch(/^label_values\([a-z_]+\{service_name=~"\$service"\}, instance\)$/);
    expect(variableQuery(overview.route!)).toMatch(/^label_values\([a-z_]+\{service_name=~"\$service"\}, http_route\)$/);
    for (const name of ['service', 'instance', 'route']) {
      expect(overview[name]!.includeAll, name).toBe(true);
      expect(overview[name]!.allValue, name).toBe('.*');
    }
    const slo = vars(byUid('chatpulse-slo'));
    expect(Object.keys(slo).sort()).toEqual(['datasource', 'service']);
  });

  it('panels use the variables they offer: every raw query filters by $service', () => {
    for (const { file, dashboard } of dashboards) {
      for (const p of queryPanels(dashboard)) {
        for (const t of p.targets!) {
          expect(t.expr, `${file}: "${p.title}" ${t.refId}`).toContain('service_name=~"$service"');
        }
      }
    }
    // Route-level panels honour $route, instance-level ones $instance.
    const overview = byUid('chatpulse-overview');
    for (const title of ['Time to first token p50 / p95 / p99', 'First audio p95 by route', 'Request rate by route', 'Streams by outcome']) {
      for (const t of panel(overview, title).targets!) expect(t.expr).toContain('http_route=~"$route"');
    }
    for (const title of ['Memory utilization by instance', 'CPU utilization by instance', 'Event-loop delay', 'Errors by type']) {
      for (const t of panel(overview, title).targets!) expect(t.expr).toContain('instance=~"$instance"');
    }
  });

  it('the overview shows every requested KPI', () => {
    const overview = byUid('chatpulse-overview');
    const titles = queryPanels(overview).map((p) => p.title);
    for (const t of [
      'Stream success rate',
      'Time to first token p50 / p95 / p99',
      'First audio p95',
      'Complete response p95',
      'Request rate',
      'Active streams per process',
      'KB cache hit rate',
      'TTS cache hit rate',
      'Errors by type',
      'Memory utilization',
      'CPU utilization (5m avg)',
      'Event-loop delay',
    ]) {
      expect(titles).toContain(t);
    }
    const ttft = panel(overview, 'Time to first token p50 / p95 / p99').targets!.map((t) => t.expr);
    expect(ttft.map((e) => /histogram_quantile\((0\.\d+),/.exec(e)?.[1])).toEqual(['0.5', '0.95', '0.99']);
  });

  it("KPI panels carry the KPI table's thresholds (stat panels and time series)", () => {
    const table = alertedKpis();
    const overview = byUid('chatpulse-overview');
    for (const b of KPI_BINDINGS) {
      const k = table.find((t) => t.key === b.kpi)!;
      const steps = expectedSteps(k);
      const stat = panel(overview, b.statPanel);
      expect(stat.type).toBe('stat');
      expect(stat.fieldConfig?.defaults?.thresholds, b.statPanel).toEqual({ mode: 'absolute', steps });
      for (const ts of b.timeseriesPanels) {
        const p = panel(overview, ts.title);
        expect(p.type).toBe('timeseries');
        if (ts.override === undefined) {
          expect(p.fieldConfig?.defaults?.thresholds, ts.title).toEqual({ mode: 'absolute', steps });
        } else {
          const o = p.fieldConfig?.overrides?.find((x) => x.matcher.id === 'byName' && x.matcher.options === ts.override);
          expect(o?.properties, `${ts.title} override ${ts.override}`).toContainEqual({ id: 'thresholds', value: { mode: 'absolute', steps } });
        }
      }
    }
  });

  it('KPI stat panels show the recording rule the alert evaluates', () => {
    const overview = byUid('chatpulse-overview');
    const rules = loadRules();
    for (const b of KPI_BINDINGS) {
      const [stat] = panel(overview, b.statPanel).targets!;
      const alert = rules.find((r) => r.alert === b.alert)!;
      const statMetrics = [...extractPromql(substituteGrafanaVariables(stat!.expr)).metrics];
      const alertMetrics = extractPromql(alert.expr).metrics;
      expect(statMetrics.length, b.statPanel).toBe(1);
      expect(alertMetrics.has(statMetrics[0]!), `${b.statPanel} shows ${statMetrics[0]}, ${b.alert} evaluates ${[...alertMetrics]}`).toBe(true);
    }
  });

  it('use only metric names from the catalog or the recording rules, and known labels', () => {
    const rules = loadRules();
    const known = knownNames(rules);
    const check = { knownMetrics: known.metrics, knownLabels: known.labels, labelsByMetric: known.labelsByMetric };
    const problems: string[] = [];
    for (const { file, dashboard } of dashboards) {
      for (const p of queryPanels(dashboard)) {
        for (const t of p.targets!) {
          for (const pr of checkNames(substituteGrafanaVariables(t.expr), check)) problems.push(`${file} "${p.title}" ${t.refId}: ${pr}`);
          for (const m of (t.legendFormat ?? '').matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)) {
            if (!known.labels.has(m[1]!)) problems.push(`${file} "${p.title}" ${t.refId}: legend uses unknown label ${m[1]}`);
          }
        }
      }
      for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
        const q = /^label_values\((.+), ([a-z_]+)\)$/.exec(variableQuery(v));
        expect(q, `${file} variable ${v.name}`).not.toBeNull();
        for (const pr of checkNames(substituteGrafanaVariables(q![1]!), check)) problems.push(`${file} variable ${v.name}: ${pr}`);
        if (!known.labels.has(q![2]!)) problems.push(`${file} variable ${v.name}: unknown label ${q![2]}`);
      }
    }
    expect(problems).toEqual([]);
    // The SLO dashboard is built on the SLO recording rules.
    const sloExprs = queryPanels(byUid('chatpulse-slo')).flatMap((p) => p.targets!.map((t) => t.expr));
    const records = new Set(recordingRules(rules).map((r) => r.record!));
    for (const e of sloExprs) {
      const metrics = [...extractPromql(substituteGrafanaVariables(e)).metrics];
      expect(metrics.length, e).toBeGreaterThan(0);
      for (const m of metrics) expect(records.has(m), `${e} uses ${m}`).toBe(true);
    }
  });
});

describe('Grafana provisioning', () => {
  it('provisions a Prometheus data source', () => {
    const ds = readYaml<{ apiVersion: number; datasources: { name: string; type: string; url: string; access: string; uid: string }[] }>(
      path.join(DASHBOARDS, 'provisioning', 'datasources', 'prometheus.yaml'),
    );
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', access: 'proxy', url: 'http://prometheus:9090' });
  });

  it('provisions the dashboards from the folder docker-compose.yml mounts them into', () => {
    const prov = readYaml<{ apiVersion: number; providers: { type: string; options: { path: string } }[] }>(
      path.join(DASHBOARDS, 'provisioning', 'dashboards', 'chatpulse.yaml'),
    );
    expect(prov.apiVersion).toBe(1);
    expect(prov.providers).toHaveLength(1);
    expect(prov.providers[0]!.type).toBe('file');
    const compose = readYaml<{ services: Record<string, { volumes?: string[] }> }>(path.join(DASHBOARDS, '..', 'docker-compose.yml'));
    const grafanaVolumes = compose.services.grafana?.volumes ?? [];
    expect(grafanaVolumes).toContain(`./dashboards:${prov.providers[0]!.options.path}:ro`);
    expect(fs.readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).length).toBe(dashboards.length);
  });
});
