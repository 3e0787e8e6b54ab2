/**
 * docker-compose.yml: every file or directory it mounts or names exists in the repository, every
 * path a container command or setting uses resolves through a mount to a file of the repository,
 * the services reach each other under the names and ports the configuration files use, and
 * docs/stack.md documents every published port. (No Docker engine runs in CI; this is static.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERTS, DASHBOARDS, REPO, readYaml } from './lib/repo';

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string | string[];
  entrypoint?: string | string[];
  working_dir?: string;
  environment?: Record<string, string> | string[];
  env_file?: string | string[];
  volumes?: (string | { type: string; source: string; target: string })[];
  configs?: (string | { source: string; target?: string })[];
  secrets?: (string | { source: string; target?: string })[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
  configs?: Record<string, { file?: string }>;
}

const compose = readYaml<Compose>(path.join(REPO, 'docker-compose.yml'));
const services = compose.services;
const env = (s: Service): Record<string, string> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))
    : Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
const commandText = (s: Service): string => [s.entrypoint ?? [], s.command ?? []].flat().join(' ');

interface Mount {
  source: string;
  target: string;
}
/** Bind mounts of a service (host path → container path); named volumes are skipped. */
function bindMounts(s: Service): Mount[] {
  const out: Mount[] = [];
  for (const v of s.volumes ?? []) {
    if (typeof v === 'string') {
      const [source, target] = v.split(':') as [string, string];
      if (source.startsWith('.') || source.startsWith('/')) out.push({ source, target });
    } else if (v.type === 'bind') out.push({ source: v.source, target: v.target });
  }
  return out;
}

/** Host path of a container path through the service's bind mounts (longest target wins). */
function hostPath(s: Service, containerPath: string): string | undefined {
  const m = bindMounts(s)
    .filter((b) => containerPath === b.target || containerPath.startsWith(b.target.replace(/\/$/, '') + '/'))
    .sort((a, b) => b.target.length - a.target.length)[0];
  if (!m) return undefined;
  return path.join(path.resolve(REPO, m.source), path.relative(m.target, containerPath));
}

/** An existing file of the repository for a host path; build outputs (dist/*.js) map to their TypeScript source. */
function existsInRepo(p: string): boolean {
  const rel = path.relative(REPO, p);
  if (rel.startsWith('..')) return false;
  if (fs.existsSync(p)) return true;
  const dist = /^dist\/(.+)\.js$/.exec(rel);
  return dist !== null && fs.existsSync(path.join(REPO, `${dist[1]}.ts`));
}

describe('docker-compose.yml', () => {
  it('runs the chatbot, traffic, Collector, Prometheus, Alertmanager, Grafana, Postgres and Redis', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['alertmanager', 'chatbot', 'grafana', 'otel-collector', 'postgres', 'prometheus', 'redis', 'traffic'].sort(),
    );
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
    for (const [name, s] of Object.entries(services)) expect(s.image, name).toMatch(/:[\w.]+$/); // pinned tags
  });

  it('the chatbot is the instrumented sample app, built from the mounted repository', () => {
    const c = services.chatbot!;
    expect(c.image).toBe('node:20');
    expect(c.working_dir).toBe('/app');
    expect(bindMounts(c)).toContainEqual({ source: '.', target: '/app' });
    expect(commandText(c)).toContain(
      'npm ci && npm run build && exec node --require ./dist/instrumentation/register.js examples/chatbot/server.js',
    );
    const e = env(c);
    expect(e).toMatchObject({
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      CHATPULSE_HEALTH_PORT: '9465',
      PORT: '3000',
    });
    expect(e.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
    expect(e.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    // Prometheus in another container must reach the exporter: it has to listen on all interfaces.
    expect(e.OTEL_EXPORTER_PROMETHEUS_HOST).toBe('0.0.0.0');
    expect(commandText(services.traffic!)).toBe('node examples/chatbot/traffic.js --url http://chatbot:3000 --rps 5 --duration 0');
  });

  it('names only files and directories that exist in the repository (volumes, configs, secrets, env_file)', () => {
    const missing: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      for (const m of bindMounts(s)) if (!existsInRepo(path.resolve(REPO, m.source))) missing.push(`${name}: volume ${m.source}`);
      for (const f of [s.env_file ?? []].flat()) if (!existsInRepo(path.resolve(REPO, f))) missing.push(`${name}: env_file ${f}`);
      const ctx = typeof s.build === 'string' ? s.build : s.build?.context;
      if (ctx !== undefined && !existsInRepo(path.resolve(REPO, ctx))) missing.push(`${name}: build ${ctx}`);
    }
    for (const [name, c] of Object.entries({ ...(compose.configs ?? {}), ...(compose.secrets ?? {}) })) {
      if (c.file !== undefined && !existsInRepo(path.resolve(REPO, c.file))) missing.push(`config/secret ${name}: ${c.file}`);
    }
    expect(missing).toEqual([]);
  });

  it('every path a container uses resolves through its mounts to a file of the repository', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [name, s] of Object.entries(services)) {
      const words = [commandText(s), ...Object.values(env(s))].join(' ').split(/[\s=]+/);
      for (const w of words) {
        const p = w.replace(/^['"]|['"]$/g, '');
        let host: string | undefined;
        if (p.startsWith('/')) host = hostPath(s, p);
        else if (/^\.?\/?[\w.-]+\/[\w./-]+\.(js|ya?ml|json)$/.test(p) && s.working_dir) host = hostPath(s, path.posix.join(s.working_dir, p));
        if (host === undefined) continue; // not inside a bind mount (image content, volume data)
        checked++;
        if (!existsInRepo(host)) problems.push(`${name}: ${p} -> ${path.relative(REPO, host)} does not exist`);
      }
    }
    expect(problems).toEqual([]);
    // chatbot server + register, traffic script, 2 collector configs, prometheus.yml, alertmanager.yml, home dashboard
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it('wires services under the names and ports the configuration files use', () => {
    const prom = readYaml<{ scrape_configs: { static_configs: { targets: string[] }[] }[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } }>(
      path.join(ALERTS, 'prometheus.yml'),
    );
    const targets = [
      ...prom.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets)),
      ...prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)),
    ].filter((t) => !t.startsWith('localhost'));
    for (const t of targets) expect(Object.keys(services), t).toContain(t.split(':')[0]);
    expect(targets).toContain(`chatbot:${env(services.chatbot!).OTEL_EXPORTER_PROMETHEUS_PORT}`);

    const am = readYaml<{ receivers: { name: string; webhook_configs?: { url: string }[]; pagerduty_configs?: { routing_key_file: string }[]; slack_configs?: { api_url_file: string }[] }[] }>(
      path.join(ALERTS, 'alertmanager.yml'),
    );
    const hook = new URL(am.receivers.flatMap((r) => r.webhook_configs ?? [])[0]!.url);
    expect(hook.hostname).toBe('chatbot');
    expect(hook.port).toBe(env(services.chatbot!).CHATPULSE_HEALTH_PORT);
    expect(hook.pathname).toBe('/api/v1/health/alerts/alertmanager');
    // Alertmanager's secret files are the compose secrets' targets.
    const secretTargets = (services.alertmanager!.secrets ?? []).map((s) => (typeof s === 'string' ? `/run/secrets/${s}` : s.target));
    const files = am.receivers.flatMap((r) => [...(r.pagerduty_configs ?? []).map((p) => p.routing_key_file), ...(r.slack_configs ?? []).map((c) => c.api_url_file)]);
    expect(files.length).toBe(2);
    for (const f of files) expect(secretTargets).toContain(f);
    for (const s of services.alertmanager!.secrets ?? []) {
      const src = typeof s === 'string' ? s : s.source;
      expect(compose.secrets?.[src], src).toBeDefined();
    }

    const ds = readYaml<{ datasources: { url: string }[] }>(path.join(DASHBOARDS, 'provisioning', 'datasources', 'prometheus.yaml'));
    expect(Object.keys(services)).toContain(new URL(ds.datasources[0]!.url).hostname);

    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(Object.keys(services), `${name} depends on ${d}`).toContain(d);
      for (const v of s.volumes ?? []) {
        if (typeof v !== 'string') continue;
        const source = v.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(compose.volumes, `${name}: volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it('publishes distinct host ports, all documented in docs/stack.md', () => {
    const doc = fs.readFileSync(path.join(REPO, 'docs', 'stack.md'), 'utf8');
    const published = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => String(p).split(':')[0]!));
    expect(new Set(published).size).toBe(published.length);
    for (const p of published) expect(doc, `port ${p}`).toMatch(new RegExp(`\\b${p}\\b`));
    expect(published).toEqual(expect.arrayContaining(['3000', '9464', '9465', '9090', '9093', '3001', '4317', '4318']));
  });
});
