/**
 * alerts/alertmanager.yml: amtool accepts it, routes critical alerts to the pager, warnings to chat
 * and every alert to the chatpulse health webhook, a critical alert inhibits its warning twin, and
 * secrets are read from files rather than written in the configuration.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ALERTS, readYaml, requireTool, run } from './lib/repo';
import { alertingRules, loadRules } from './lib/rules';

const CONFIG = path.join(ALERTS, 'alertmanager.yml');

interface Receiver {
  name: string;
  pagerduty_configs?: Record<string, unknown>[];
  slack_configs?: Record<string, unknown>[];
  webhook_configs?: { url: string; send_resolved?: boolean }[];
}
interface AmConfig {
  route: { receiver: string; group_by: string[]; routes: unknown[] };
  inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[];
  receivers: Receiver[];
}
const config = readYaml<AmConfig>(CONFIG);

describe('Alertmanager configuration (alerts/alertmanager.yml)', () => {
  let amtool: string;
  let tmp: string;
  beforeAll(() => {
    amtool = requireTool('amtool');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chatpulse-am-'));
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('passes `amtool check-config`', () => {
    const r = run(amtool, ['check-config', CONFIG]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('`amtool check-config` rejects a route to an undefined receiver (the check can fail)', () => {
    const broken = YAML.parse(fs.readFileSync(CONFIG, 'utf8')) as AmConfig;
    broken.route.receiver = 'nobody';
    const file = path.join(tmp, 'broken.yml');
    fs.writeFileSync(file, YAML.stringify(broken));
    expect(run(amtool, ['check-config', file]).status).not.toBe(0);
  });

  const routes = (labels: string[]): string[] => {
    const r = run(amtool, ['config', 'routes', 'test', `--config.file=${CONFIG}`, ...labels]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    return r.stdout.trim().split(',').sort();
  };

  it('routes every shipped alert by severity: critical to the pager, warning to chat, both to the health webhook', () => {
    const alerts = alertingRules(loadRules());
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) {
      const severity = a.labels!.severity!;
      const labels = [`alertname=${a.alert}`, `severity=${severity}`, 'service_name=chatbot', ...Object.entries(a.labels!).filter(([k]) => k !== 'severity').map(([k, v]) => `${k}=${v}`)];
      const expected = severity === 'critical' ? ['chatpulse-health', 'pager'] : ['chat', 'chatpulse-health'];
      expect(routes(labels), `${a.alert} ${severity}`).toEqual(expected);
    }
    expect(routes(['alertname=SomethingElse'])).toEqual(['chat', 'chatpulse-health']);
  });

  it('a critical alert inhibits the warning of the same alert, service and instance', () => {
    expect(config.inhibit_rules).toEqual([
      { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ['alertname', 'service_name', 'instance'] },
    ]);
    expect(config.route.group_by).toEqual(['alertname', 'service_name']);
  });

  it('reads the PagerDuty routing key and the Slack webhook URL from files, never inline', () => {
    const text = fs.readFileSync(CONFIG, 'utf8');
    const pager = config.receivers.find((r) => r.name === 'pager')!;
    const chat = config.receivers.find((r) => r.name === 'chat')!;
    expect(pager.pagerduty_configs).toHaveLength(1);
    expect(pager.pagerduty_configs![0]!.routing_key_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
    expect(pager.pagerduty_configs![0]).not.toHaveProperty('routing_key');
    expect(pager.pagerduty_configs![0]).not.toHaveProperty('service_key');
    expect(chat.slack_configs).toHaveLength(1);
    expect(chat.slack_configs![0]!.api_url_file).toMatch(/^\/etc\/alertmanager\/secrets\//);
    expect(chat.slack_configs![0]).not.toHaveProperty('api_url');
    expect(text).not.toMatch(/hooks\.slack\.com\/services\/[A-Z0-9]/);
    // The header documents how the secrets get into those files.
    for (const v of ['PAGERDUTY_ROUTING_KEY', 'SLACK_WEBHOOK_URL', 'does not expand environment variables']) expect(text).toContain(v);
  });

  it('sends every alert, resolved ones too, to the chatpulse health service receiver', () => {
    const health = config.receivers.find((r) => r.name === 'chatpulse-health')!;
    expect(health.webhook_configs).toHaveLength(1);
    expect(new URL(health.webhook_configs![0]!.url).pathname).toBe('/api/v1/health/alerts/alertmanager');
    expect(health.webhook_configs![0]!.send_resolved).toBe(true);
  });
});
