/**
 * Prometheus rules: promtool accepts them, their unit tests pass and cover every alert (firing, not
 * firing, no traffic), breaking a threshold or a traffic guard makes those unit tests fail, the
 * thresholds are the KPI table's (src/grading/kpi-table.ts), every metric and label name exists in
 * the catalog, and every runbook_url resolves to a runbook in the repository.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { KPI_BINDINGS, alertedKpis } from './lib/kpi';
import { checkNames } from './lib/promql';
import { ALERTS, REPO, RULE_TESTS_DIR, RULES_DIR, listFiles, mapLimit, readYaml, requireTool, run, runAsync } from './lib/repo';
import { alertingRules, knownNames, loadRules, recordingRules, ruleFiles, type Rule } from './lib/rules';

interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}
interface UnitTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: AlertRuleTest[]; promql_expr_test?: unknown[] }[];
}

/** Prometheus duration to seconds (5m, 1h30m, 3d). */
function seconds(d: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  const re = /(\d+)(ms|[smhdwy])/g;
  let matched = '';
  for (const m of d.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0];
  }
  if (matched !== d) throw new Error(`bad duration ${d}`);
  return total;
}

/** Strict comparisons against a number in an expression (`> 1`, `< 0.98`); `>=` guards are not thresholds. */
function strictComparisons(expr: string): { op: string; value: number }[] {
  return [...expr.matchAll(/(?<![<>=!])([<>])(?!=)\s*([0-9]+(?:\.[0-9]+)?)(?!\s*[*/])/g)].map((m) => ({ op: m[1]!, value: Number(m[2]) }));
}

const rules = loadRules();
const alerts = alertingRules(rules);
const alertNames = [...new Set(alerts.map((a) => a.alert!))];
const unitTestFiles = listFiles(RULE_TESTS_DIR, '.test.yml');

describe('Prometheus rule files', () => {
  let promtool: string;
  beforeAll(() => {
    promtool = requireTool('promtool');
  });

  it('exist and define recording rules and alerts', () => {
    expect(ruleFiles().map((f) => path.basename(f))).toEqual([
      'chatpulse-alerts.rules.yml',
      'chatpulse-recording.rules.yml',
      'chatpulse-slo.rules.yml',
    ]);
    expect(recordingRules(rules).length).toBeGreaterThan(10);
    expect(alertNames.length).toBeGreaterThanOrEqual(13);
  });

  it('pass `promtool check rules`', () => {
    const r = run(promtool, ['check', 'rules', ...ruleFiles()]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const f of ruleFiles()) expect(r.stdout).toContain(`Checking ${f}`);
    expect(r.stdout).not.toMatch(/FAILED/);
  });

  it('pass `promtool test rules` (alerts/tests/*.test.yml)', async () => {
    expect(unitTestFiles.length).toBeGreaterThanOrEqual(5);
    const results = await mapLimit(unitTestFiles, 1, (f) => runAsync(promtool, ['test', 'rules', f], { timeoutMs: 120_000 }));
    results.forEach((r, i) => expect(r.status, `${unitTestFiles[i]}\n${r.stdout}${r.stderr}`).toBe(0));
  }, 180_000);

  it('recording rule names follow level:metric:operations with a service or instance level', () => {
    for (const r of recordingRules(rules)) expect(r.record).toMatch(/^(service|instance):[a-z0-9_]+:[a-z0-9_]+$/);
  });

  it('use only metric names from the catalog (or recording rules) and known labels', () => {
    const known = knownNames(rules);
    const problems: string[] = [];
    for (const r of rules) {
      for (const p of checkNames(r.expr, { knownMetrics: known.metrics, knownLabels: known.labels, labelsByMetric: known.labelsByMetric })) {
        problems.push(`${r.file} ${r.record ?? r.alert}: ${p}`);
      }
      for (const text of Object.values(r.annotations ?? {})) {
        for (const m of text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)) {
          if (!known.labels.has(m[1]!)) problems.push(`${r.alert}: annotation uses unknown label ${m[1]}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every recording rule is used by an alert, another recording rule or a dashboard', () => {
    const dashboards = listFiles(path.join(REPO, 'dashboards'), '.json').map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    const unused = recordingRules(rules)
      .map((r) => r.record!)
      .filter((name) => !rules.some((o) => o.record !== name && o.expr.includes(name)) && !dashboards.includes(name));
    expect(unused).toEqual([]);
  });
});

describe('alerts', () => {
  it('have a for: duration, a severity and summary/description/runbook_url annotations', () => {
    for (const a of alerts) {
      const where = `${a.alert} (${a.labels?.severity})`;
      expect(a.for, where).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical'], where).toContain(a.labels?.severity);
      expect(a.annotations?.summary, where).toBeTruthy();
      expect(a.annotations?.description, where).toMatch(/\{\{ \$value( \| (humanizePercentage|humanizeDuration|humanize))? \}\}/);
      expect(a.annotations?.runbook_url, where).toBeTruthy();
    }
  });

  it('use no alert name twice with the same severity', () => {
    const keys = alerts.map((a) => `${a.alert}/${a.labels?.severity}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('runbook_url of every alert resolves to a runbook file (and anchor) in the repository', () => {
    const slug = (heading: string) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- ]/gu, '')
        .replace(/ /g, '-');
    for (const a of alerts) {
      const url = a.annotations!.runbook_url!;
      const [file, anchor] = url.split('#') as [string, string | undefined];
      expect(file, a.alert).toMatch(/^alerts\/runbooks\/[A-Za-z0-9_-]+\.md$/);
      const abs = path.join(REPO, file);
      expect(fs.existsSync(abs), `${a.alert}: ${url} does not exist`).toBe(true);
      const text = fs.readFileSync(abs, 'utf8');
      expect(text.split('\n')[0], `${url} must be the runbook of ${a.alert}`).toBe(`# ${a.alert}`);
      if (anchor !== undefined) {
        const anchors = [...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
        expect(anchors, `${a.alert}: anchor #${anchor} missing in ${file}`).toContain(anchor);
      }
    }
  });

  it("thresholds are the KPI table's thresholds, with a warning and a critical alert per alerted KPI", () => {
    const table = alertedKpis();
    expect(table.map((k) => k.key).sort()).toEqual(KPI_BINDINGS.map((b) => b.kpi).sort());
    for (const b of KPI_BINDINGS) {
      const k = table.find((t) => t.key === b.kpi)!;
      const op = k.direction === 'above' ? '>' : '<';
      for (const [severity, value] of [
        ['warning', k.warning],
        ['critical', k.critical],
      ] as const) {
        const rule = alerts.find((a) => a.alert === b.alert && a.labels?.severity === severity);
        expect(rule, `${b.alert} ${severity}`).toBeDefined();
        expect(strictComparisons(rule!.expr), `${b.alert} ${severity}: ${rule!.expr}`).toEqual([{ op, value }]);
      }
    }
  });

  it('multi-window multi-burn-rate SLO alerts use the workbook windows and factors', () => {
    const slo = alerts.filter((a) => a.labels?.slo !== undefined);
    expect(new Set(slo.map((a) => a.alert))).toEqual(new Set(['ChatbotStreamAvailabilityBudgetBurn', 'ChatbotTimeToFirstTokenBudgetBurn']));
    for (const a of slo) {
      if (a.labels!.severity === 'critical') {
        for (const w of ['1h', '5m', '6h', '30m']) expect(a.expr).toContain(`:ratio_rate${w} >`);
        expect(a.expr).toMatch(/ratio_rate1h > \(14\.4 \* 0\.0[15]\)/);
        expect(a.expr).toMatch(/ratio_rate6h > \(6 \* 0\.0[15]\)/);
      } else {
        expect(a.labels!.severity).toBe('warning');
        for (const w of ['3d', '6h']) expect(a.expr).toMatch(new RegExp(`ratio_rate${w} > 0\\.0[15]\\b`));
      }
    }
    // The time-to-first-token SLI counts streams in the 1 s bucket.
    const ttft = recordingRules(rules).filter((r) => r.record!.startsWith('service:chatbot_stream_time_to_first_token_slow:'));
    expect(ttft.length).toBeGreaterThanOrEqual(5);
    for (const r of ttft) expect(r.expr).toContain('le=~"1|1.0"');
  });
});

describe('alert unit tests (alerts/tests)', () => {
  const files = unitTestFiles.map((f) => ({ file: f, doc: readYaml<UnitTestFile>(f) }));

  it('load the shipped rule files, not copies', () => {
    for (const { file, doc } of files) {
      expect(doc.rule_files.length, file).toBeGreaterThan(0);
      for (const rf of doc.rule_files) {
        const abs = path.resolve(path.dirname(file), rf);
        expect(path.dirname(abs), `${file}: ${rf}`).toBe(RULES_DIR);
        expect(fs.existsSync(abs), `${file}: ${rf}`).toBe(true);
      }
    }
  });

  it('cover every alert and severity firing, and every alert not firing and with no traffic', () => {
    const firing = new Map<string, Set<string>>();
    const notFiring = new Set<string>();
    const noTraffic = new Set<string>();
    const longestFor = new Map<string, number>();
    for (const a of alerts) longestFor.set(a.alert!, Math.max(longestFor.get(a.alert!) ?? 0, seconds(a.for!)));
    for (const { file, doc } of files) {
      for (const t of doc.tests) {
        for (const c of t.alert_rule_test ?? []) {
          expect(alertNames, `${file}: "${t.name}" tests an alert that does not exist`).toContain(c.alertname);
          const expected = c.exp_alerts ?? [];
          if (expected.length > 0) {
            for (const e of expected) {
              const sev = e.exp_labels?.severity;
              expect(sev, `${file}: "${t.name}" expects an alert without severity`).toBeDefined();
              if (!firing.has(c.alertname)) firing.set(c.alertname, new Set());
              firing.get(c.alertname)!.add(sev!);
              expect(e.exp_annotations?.description, `${file}: "${t.name}" must check the rendered description`).toBeTruthy();
            }
          } else if (seconds(c.eval_time) > longestFor.get(c.alertname)!) {
            // Only a check after the longest `for:` shows the alert would not fire (not merely be pending).
            notFiring.add(c.alertname);
            if (/no traffic/i.test(t.name)) noTraffic.add(c.alertname);
          }
        }
      }
    }
    for (const a of alerts) {
      expect([...(firing.get(a.alert!) ?? [])], `${a.alert}: no unit test where the ${a.labels!.severity} alert fires`).toContain(
        a.labels!.severity,
      );
    }
    for (const name of alertNames) {
      expect(notFiring.has(name), `${name}: no unit test where it does not fire`).toBe(true);
      expect(noTraffic.has(name), `${name}: no "no traffic" unit test`).toBe(true);
    }
  });
});

describe('alert unit tests catch broken rules (mutation)', () => {
  let promtool: string;
  let tmp: string;
  beforeAll(() => {
    promtool = requireTool('promtool');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chatpulse-rules-mutation-'));
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  interface Mutation {
    readonly name: string;
    readonly file: string;
    /** Unit-test file that must now fail. */
    readonly test: string;
    /** Only the unit tests of this alert are run (they are the ones that must catch it). */
    readonly alert?: string;
    apply(text: string): string;
  }

  const alertsFile = 'chatpulse-alerts.rules.yml';
  const testFileOf: Record<string, string> = {
    ChatbotTimeToFirstTokenHigh: 'latency.test.yml',
    ChatbotTimeToFirstAudioHigh: 'latency.test.yml',
    ChatbotResponseDurationHigh: 'latency.test.yml',
    ChatbotStreamSuccessRateLow: 'availability.test.yml',
    ChatbotErrorRateHigh: 'availability.test.yml',
    ChatbotKbCacheHitRateLow: 'cache.test.yml',
    ChatbotTtsCacheHitRateLow: 'cache.test.yml',
    ChatbotActiveStreamsHigh: 'resources.test.yml',
    ChatbotMemoryUtilizationHigh: 'resources.test.yml',
    ChatbotCpuUtilizationHigh: 'resources.test.yml',
    ChatbotUpstreamTimeToFirstChunkHigh: 'upstream.test.yml',
    ChatbotUpstreamErrorRateHigh: 'upstream.test.yml',
  };

  /** Replaces `old` by `replacement` inside the expr of one alert rule (name + severity) only. */
  function inRule(alert: string, severity: string, old: string | RegExp, replacement: string) {
    return (text: string): string => {
      const blocks = text.split(/(?=\n      - alert: )/);
      let hits = 0;
      const out = blocks.map((b) => {
        if (!b.includes(`- alert: ${alert}\n`) || !b.includes(`severity: ${severity}\n`)) return b;
        const exprEnd = b.indexOf('\n        for:');
        const next = b.slice(0, exprEnd).replace(old, replacement) + b.slice(exprEnd);
        if (next !== b) hits++;
        return next;
      });
      if (hits !== 1) throw new Error(`mutation of ${alert}/${severity} matched ${hits} rules`);
      return out.join('');
    };
  }

  const mutations: Mutation[] = [];
  for (const b of KPI_BINDINGS) {
    for (const severity of ['warning', 'critical']) {
      const rule = alerts.find((a) => a.alert === b.alert && a.labels?.severity === severity)!;
      const [cmp] = strictComparisons(rule.expr);
      if (!cmp) throw new Error(`${b.alert} ${severity} has no threshold`);
      // Move the threshold away from the breach: double an upper bound, halve a lower bound.
      const moved = cmp.op === '>' ? cmp.value * 2 : cmp.value / 2;
      mutations.push({
        name: `${b.alert} ${severity}: threshold ${cmp.op} ${cmp.value} -> ${moved}`,
        file: alertsFile,
        test: testFileOf[b.alert]!,
        alert: b.alert,
        apply: inRule(b.alert, severity, new RegExp(`([<>]) ${cmp.value.toString().replace('.', '\\.')}(?![0-9.])`), `$1 ${moved}`),
      });
    }
    const guarded = alerts.find((a) => a.alert === b.alert && a.labels?.severity === 'critical')!;
    if (guarded.expr.includes('>= 0.05')) {
      mutations.push({
        name: `${b.alert} critical: minimum traffic guard removed`,
        file: alertsFile,
        test: testFileOf[b.alert]!,
        alert: b.alert,
        apply: inRule(b.alert, 'critical', '>= 0.05', '>= 0'),
      });
    }
  }
  mutations.push({
    name: 'upstream error ratio counts calls the app cancelled',
    file: 'chatpulse-recording.rules.yml',
    test: 'upstream.test.yml',
    alert: 'ChatbotUpstreamErrorRateHigh',
    apply: (t) => t.replace('{error_type!="",error_type!="cancelled"}', '{error_type!=""}'),
  });
  mutations.push({
    name: 'stream success ratio counts client aborts',
    file: 'chatpulse-recording.rules.yml',
    test: 'availability.test.yml',
    alert: 'ChatbotStreamSuccessRateLow',
    apply: (t) => t.replace('service:chatbot_streams:rate5m{chatbot_stream_outcome=~"completed|failed"}', 'service:chatbot_streams:rate5m'),
  });
  mutations.push({
    name: 'error ratio counts 4xx',
    file: 'chatpulse-recording.rules.yml',
    test: 'availability.test.yml',
    alert: 'ChatbotErrorRateHigh',
    apply: (t) => t.replace('http_response_status_code=~"5.."', 'http_response_status_code=~"[45].."'),
  });
  mutations.push({
    name: 'target down fires for any job',
    file: alertsFile,
    test: 'resources.test.yml',
    alert: 'ChatbotTargetDown',
    apply: (t) => t.replace(/up == 0\n\s+and on \(job, instance\)\n\s+\(\n\s+last_over_time\(target_info\[1h\]\)\n\s+or\n\s+up\{job=~"chatbot\.\*"\}\n\s+\)/, 'up == 0'),
  });
  mutations.push({
    name: 'availability page without the short window',
    file: 'chatpulse-slo.rules.yml',
    test: 'slo.test.yml',
    alert: 'ChatbotStreamAvailabilityBudgetBurn',
    apply: (t) => t.replace('service:chatbot_streams_failed:ratio_rate5m > (14.4 * 0.01)', 'service:chatbot_streams_failed:ratio_rate1h > (14.4 * 0.01)'),
  });

  it('every KPI threshold and traffic guard is pinned by a unit test', async () => {
    /** A copy of the shipped rules (one file mutated) and of the unit tests of one alert. */
    const prepare = (m: Mutation, mutate: boolean): { dir: string; problem?: string } => {
      const dir = fs.mkdtempSync(path.join(tmp, 'm-'));
      fs.cpSync(RULES_DIR, path.join(dir, 'rules'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'tests'));
      const unitTests = readYaml<UnitTestFile>(path.join(RULE_TESTS_DIR, m.test));
      if (m.alert !== undefined) unitTests.tests = unitTests.tests.filter((t) => (t.alert_rule_test ?? []).some((c) => c.alertname === m.alert));
      if (unitTests.tests.length === 0) return { dir, problem: `${m.name}: no unit tests of ${m.alert} in ${m.test}` };
      fs.writeFileSync(path.join(dir, 'tests', m.test), YAML.stringify(unitTests, { lineWidth: 0 }));
      if (mutate) {
        const target = path.join(dir, 'rules', m.file);
        const before = fs.readFileSync(target, 'utf8');
        const after = m.apply(before);
        if (after === before) return { dir, problem: `${m.name}: the mutation changed nothing` };
        fs.writeFileSync(target, after);
      }
      return { dir };
    };
    // One promtool at a time: the suite shares two cores with the other test files.
    // Control: the unmutated copies pass, so a failure below is the mutation's doing.
    const controls = [...new Map(mutations.map((m) => [`${m.test}/${m.alert}`, m])).values()];
    const controlFailures = await mapLimit(controls, 1, async (m) => {
      const { dir, problem } = prepare(m, false);
      if (problem) return problem;
      const r = await runAsync(promtool, ['test', 'rules', path.join(dir, 'tests', m.test)], { timeoutMs: 120_000 });
      return r.status === 0 ? null : `control ${m.test} (${m.alert}) fails unmutated:\n${r.stdout}${r.stderr}`;
    });
    expect(controlFailures.filter((f) => f !== null)).toEqual([]);
    const failures = await mapLimit(mutations, 1, async (m) => {
      const { dir, problem } = prepare(m, true);
      if (problem) return problem;
      const target = path.join(dir, 'rules', m.file);
      const check = await runAsync(promtool, ['check', 'rules', target]);
      if (check.status !== 0) return `${m.name}: the mutated rules do not parse\n${check.stdout}${check.stderr}`;
      const r = await runAsync(promtool, ['test', 'rules', path.join(dir, 'tests', m.test)], { timeoutMs: 120_000 });
      if (r.status === 0) return `${m.name}: ${m.test} still passes`;
      return /FAILED:/.test(r.stdout + r.stderr) ? null : `${m.name}: promtool failed without a test failure\n${r.stdout}${r.stderr}`;
    });
    expect(failures.filter((f) => f !== null)).toEqual([]);
    expect(mutations.length).toBeGreaterThanOrEqual(30);
  }, 240_000);
});

describe('Prometheus configuration of the stack (alerts/prometheus.yml)', () => {
  it('passes `promtool check config` and loads every shipped rule file', () => {
    const promtool = requireTool('promtool');
    const r = run(promtool, ['check', 'config', path.join(ALERTS, 'prometheus.yml')]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${ruleFiles().length} rule files found`);
    for (const f of ruleFiles()) expect(r.stdout).toContain(`Checking ${f}`);
  });

  it('scrapes the chatbot on 9464 and the collector, and alerts to Alertmanager', () => {
    const cfg = readYaml<{
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    }>(path.join(ALERTS, 'prometheus.yml'));
    const targets = (job: string) => cfg.scrape_configs.find((s) => s.job_name === job)?.static_configs.flatMap((s) => s.targets);
    expect(targets('chatbot')).toEqual(['chatbot:9464']);
    expect(targets('otel-collector')).toEqual(['otel-collector:8888']);
    expect(cfg.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets))).toEqual(['alertmanager:9093']);
  });
});
