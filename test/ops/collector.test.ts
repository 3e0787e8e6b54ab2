/**
 * OpenTelemetry Collector configurations: every file parses; merged the way the Collector merges
 * `--config` files (common.yaml first), every pipeline names only components that are defined,
 * every extension the service enables is defined, secrets come only from ${env:…} variables that
 * the file's header comment documents, and the backend-specific requirements hold.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { COLLECTOR, listFiles, readYaml } from './lib/repo';

type Json = Record<string, unknown>;
const SECTIONS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;

/** Component types of the contrib distribution these files may use (a misspelt type is an error). */
const KNOWN_TYPES: Record<(typeof SECTIONS)[number], ReadonlySet<string>> = {
  receivers: new Set(['otlp', 'prometheus', 'hostmetrics']),
  processors: new Set(['memory_limiter', 'batch', 'cumulativetodelta', 'deltatocumulative', 'transform', 'resource', 'resourcedetection', 'filter', 'attributes']),
  exporters: new Set(['prometheus', 'prometheusremotewrite', 'datadog', 'otlphttp', 'otlp', 'debug']),
  connectors: new Set(['datadog', 'spanmetrics', 'forward']),
  extensions: new Set(['health_check', 'basicauth', 'bearertokenauth', 'headers_setter', 'pprof', 'zpages', 'oauth2client']),
};

const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Collector's confmap merge: maps merge key by key, everything else (lists, scalars) is replaced. */
function mergeConfigs(...docs: Json[]): Json {
  const merge = (a: unknown, b: unknown): unknown => {
    if (isMap(a) && isMap(b)) {
      const out: Json = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = k in out ? merge(out[k], v) : v;
      return out;
    }
    return b;
  };
  return docs.reduce<Json>((acc, d) => merge(acc, d) as Json, {});
}

/** Problems of a merged Collector configuration. */
function validateCollector(cfg: Json): string[] {
  const problems: string[] = [];
  const section = (name: string): Json => (isMap(cfg[name]) ? (cfg[name] as Json) : {});
  for (const s of SECTIONS) {
    for (const id of Object.keys(section(s))) {
      const type = id.split('/')[0]!;
      if (!KNOWN_TYPES[s].has(type)) problems.push(`${s}: unknown component type "${type}" (${id})`);
    }
  }
  const service = section('service');
  const pipelines = isMap(service.pipelines) ? (service.pipelines as Json) : {};
  if (Object.keys(pipelines).length === 0) problems.push('service.pipelines: none');
  const connectors = section('connectors');
  for (const [name, raw] of Object.entries(pipelines)) {
    if (!/^(metrics|traces|logs)(\/[\w.-]+)?$/.test(name)) problems.push(`pipeline ${name}: bad name`);
    const p = isMap(raw) ? raw : {};
    const refs: [string, Json, Json][] = [
      ['receivers', section('receivers'), connectors],
      ['processors', section('processors'), {}],
      ['exporters', section('exporters'), connectors],
    ];
    for (const [kind, defined, alsoConnectors] of refs) {
      const list = p[kind];
      if (kind !== 'processors' && (!Array.isArray(list) || list.length === 0)) problems.push(`pipeline ${name}: no ${kind}`);
      if (list !== undefined && !Array.isArray(list)) problems.push(`pipeline ${name}: ${kind} is not a list`);
      for (const id of (Array.isArray(list) ? list : []) as string[]) {
        if (!(id in defined) && !(id in alsoConnectors)) problems.push(`pipeline ${name}: ${kind.slice(0, -1)} ${id} is not defined`);
      }
    }
    const procs = (Array.isArray(p.processors) ? p.processors : []) as string[];
    if (procs[0] !== 'memory_limiter') problems.push(`pipeline ${name}: memory_limiter must come first`);
    if (procs[procs.length - 1] !== 'batch') problems.push(`pipeline ${name}: batch must come last`);
  }
  const extensions = service.extensions;
  for (const id of (Array.isArray(extensions) ? extensions : []) as string[]) {
    if (!(id in section('extensions'))) problems.push(`service.extensions: ${id} is not defined`);
  }
  // An authenticator used by an exporter must be an enabled extension.
  for (const [id, raw] of Object.entries(section('exporters'))) {
    const auth = isMap(raw) && isMap(raw.auth) ? (raw.auth.authenticator as string | undefined) : undefined;
    if (auth !== undefined && !(Array.isArray(extensions) && extensions.includes(auth))) problems.push(`exporter ${id}: authenticator ${auth} is not enabled in service.extensions`);
  }
  return problems;
}

const files = listFiles(COLLECTOR, '.yaml');
const byName = (name: string): Json => readYaml<Json>(path.join(COLLECTOR, name));
const common = byName('common.yaml');
const backends = files.map((f) => path.basename(f)).filter((f) => f !== 'common.yaml');

describe('OpenTelemetry Collector configurations', () => {
  it('ship a common file and one file per backend', () => {
    expect(backends.sort()).toEqual(['datadog.yaml', 'grafana-cloud.yaml', 'newrelic.yaml', 'prometheus-remote-write.yaml', 'prometheus.yaml']);
  });

  it('every file is valid YAML', () => {
    for (const f of files) {
      const doc = YAML.parseDocument(fs.readFileSync(f, 'utf8'));
      expect(doc.errors, f).toEqual([]);
      expect(isMap(doc.toJS()), f).toBe(true);
    }
  });

  it('common.yaml has OTLP gRPC and HTTP receivers, memory_limiter, batch and the health_check extension', () => {
    const otlp = (common.receivers as Json).otlp as Json;
    expect((otlp.protocols as Json).grpc).toEqual({ endpoint: '0.0.0.0:4317' });
    expect((otlp.protocols as Json).http).toEqual({ endpoint: '0.0.0.0:4318' });
    expect(Object.keys(common.processors as Json)).toEqual(expect.arrayContaining(['memory_limiter', 'batch']));
    expect((common.extensions as Json).health_check).toBeDefined();
    expect((common.service as Json).extensions).toEqual(['health_check']);
  });

  it.each(backends)('common.yaml + %s: every pipeline and extension refers to defined components', (backend) => {
    const merged = mergeConfigs(common, byName(backend));
    expect(validateCollector(merged)).toEqual([]);
    expect((merged.service as Json).extensions).toContain('health_check');
    // Every exporter the backend file defines is used by one of its pipelines.
    const pipelines = Object.values((byName(backend).service as Json).pipelines as Json) as Json[];
    const used = new Set(pipelines.flatMap((p) => p.exporters as string[]));
    for (const id of Object.keys((byName(backend).exporters as Json) ?? {})) expect(used, `${backend}: exporter ${id}`).toContain(id);
  });

  it('all backends together merge into one valid configuration without clashing component ids', () => {
    const ids = new Map<string, string>();
    for (const b of backends) {
      const doc = byName(b);
      for (const s of [...SECTIONS, 'pipelines'] as const) {
        const section = s === 'pipelines' ? ((doc.service as Json).pipelines as Json) : ((doc[s] as Json | undefined) ?? {});
        for (const id of Object.keys(section)) {
          expect(ids.get(`${s}:${id}`), `${s} ${id} is defined by ${ids.get(`${s}:${id}`)} and ${b}`).toBeUndefined();
          ids.set(`${s}:${id}`, b);
        }
      }
    }
    // grafana-cloud.yaml sets service.extensions, so it goes last (lists are replaced, not merged).
    const order = [...backends.filter((b) => b !== 'grafana-cloud.yaml'), 'grafana-cloud.yaml'];
    expect(validateCollector(mergeConfigs(common, ...order.map(byName)))).toEqual([]);
  });

  it('the validator catches an undefined component and an undefined extension', () => {
    const broken = mergeConfigs(common, byName('prometheus.yaml'), {
      service: { extensions: ['health_check', 'basicauth/missing'], pipelines: { 'metrics/prometheus': { exporters: ['prometheus', 'otlphttp/nowhere'] } } },
    });
    expect(validateCollector(broken)).toEqual([
      'pipeline metrics/prometheus: exporter otlphttp/nowhere is not defined',
      'service.extensions: basicauth/missing is not defined',
    ]);
    expect(validateCollector(mergeConfigs(common, { exporters: { promethues: {} } }))).toContain(
      'exporters: unknown component type "promethues" (promethues)',
    );
  });

  it('secrets come only from environment variables that the header comment documents', () => {
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      const header = text.slice(0, text.search(/^[^#\n]/m));
      const used = [...new Set([...text.matchAll(/\$\{env:([A-Z0-9_]+)(?::-[^}]*)?\}/g)].map((m) => m[1]!))];
      for (const v of used) expect(header, `${path.basename(f)} uses ${v} but its header does not say so`).toMatch(new RegExp(`\\b${v}\\b`));
      if (used.length === 0) expect(header, path.basename(f)).toMatch(/Environment variables: none/);
      // No bare $VAR / ${VAR} (deprecated, and not expanded the same way).
      expect(text.replace(/\$\{env:[^}]+\}/g, ''), path.basename(f)).not.toMatch(/\$\{?[A-Z_]/);
      // Credential-looking keys never hold a literal.
      for (const m of text.matchAll(/^\s*(key|api-key|password|username|token|authorization|api_key)\s*:\s*(.+)$/gim)) {
        expect(m[2]!.trim(), `${path.basename(f)}: ${m[1]}`).toMatch(/^\$\{env:[A-Z0-9_]+\}$/);
      }
    }
  });

  it('Prometheus exporters convert resource attributes to labels (service_name) and keep catalog names', () => {
    const prom = (byName('prometheus.yaml').exporters as Json).prometheus as Json;
    expect(prom.endpoint).toBe('0.0.0.0:8889');
    expect(prom.resource_to_telemetry_conversion).toEqual({ enabled: true });
    const rw = (byName('prometheus-remote-write.yaml').exporters as Json).prometheusremotewrite as Json;
    expect(rw.endpoint).toBe('${env:PROMETHEUS_REMOTE_WRITE_URL}');
    expect(rw.resource_to_telemetry_conversion).toEqual({ enabled: true });
    for (const b of ['prometheus.yaml', 'prometheus-remote-write.yaml', 'grafana-cloud.yaml']) {
      const pipelines = Object.values((byName(b).service as Json).pipelines as Json) as Json[];
      for (const p of pipelines) expect(p.processors, b).toContain('transform/prometheus_names');
    }
    const transform = (common.processors as Json)['transform/prometheus_names'] as Json;
    expect(JSON.stringify(transform)).toContain('set(metric.unit, \\"\\")');
  });

  it('Datadog reads its API key from DD_API_KEY', () => {
    const dd = (byName('datadog.yaml').exporters as Json).datadog as Json;
    expect((dd.api as Json).key).toBe('${env:DD_API_KEY}');
  });

  it('New Relic gets delta temporality and its license key from the environment', () => {
    const nr = byName('newrelic.yaml');
    const pipeline = ((nr.service as Json).pipelines as Json)['metrics/newrelic'] as Json;
    expect(pipeline.processors).toContain('cumulativetodelta');
    const exporter = (nr.exporters as Json)['otlphttp/newrelic'] as Json;
    expect((exporter.headers as Json)['api-key']).toBe('${env:NEW_RELIC_LICENSE_KEY}');
    expect(fs.readFileSync(path.join(COLLECTOR, 'newrelic.yaml'), 'utf8')).toContain('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta');
  });

  it('Grafana Cloud authenticates with the basicauth extension', () => {
    const gc = byName('grafana-cloud.yaml');
    const exporter = (gc.exporters as Json)['otlphttp/grafana_cloud'] as Json;
    expect((exporter.auth as Json).authenticator).toBe('basicauth/grafana_cloud');
    expect(((gc.extensions as Json)['basicauth/grafana_cloud'] as Json).client_auth).toEqual({
      username: '${env:GRAFANA_CLOUD_INSTANCE_ID}',
      password: '${env:GRAFANA_CLOUD_API_TOKEN}',
    });
    expect((gc.service as Json).extensions).toEqual(['health_check', 'basicauth/grafana_cloud']);
  });
});
