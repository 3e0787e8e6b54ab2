import type { Logger } from 'pino';
import type { HealthReport, HealthService } from '../service/health-service';
import type { ErrorCountRow, ErrorLog, LatencyRow } from './error-log';
import { fingerprint } from './fingerprint';
import { formatDuration, type DependencyRule, type ErrorsRule, type KpiRule, type ResponseTimeRule, type Rule } from './rules';
import type { AlertStore } from './store';
import type { AlertRecord, Category } from './types';

/** One rule's verdict for one group this evaluation. `unknown` (no data) changes nothing. */
export interface Condition {
  readonly fingerprint: string;
  readonly rule: Rule;
  readonly state: 'active' | 'inactive' | 'unknown';
  readonly labels: Readonly<Record<string, string>>;
  readonly category: Category;
  readonly value: number | null;
  readonly title: string;
  readonly description: string;
}

export interface EvaluatorOptions {
  readonly store: AlertStore;
  readonly errorLog: ErrorLog;
  readonly service: HealthService;
  readonly rules: () => readonly Rule[];
  readonly instanceId: string;
  readonly now: () => number;
  readonly logger: Logger;
  /** Whether fires and resolves queue webhook notifications. */
  readonly notify: boolean;
  /** Another replica's observation counts in the resolve vote while younger than this. */
  readonly staleAfterMs: number;
  /** Told about every alert this evaluation fired, refreshed or resolved. */
  readonly onAlert: (alert: AlertRecord, change: 'fired' | 'refreshed' | 'resolved') => void;
}

export interface EvaluationSummary {
  readonly at: string;
  readonly fired: number;
  readonly resolved: number;
  readonly active: number;
  readonly conditions: number;
}

const STATUS_RANK = { pass: 0, warn: 1, fail: 2 } as const;

function componentCategory(component: string): Category {
  return component === 'database' ? 'database' : component === 'system' ? 'system' : 'integration';
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Turns the rules into conditions and the conditions into alert changes:
 * active → fire (idempotent per fingerprint), inactive → resolve (unless another replica still
 * sees it), unknown → nothing. Open rule alerts whose rule is gone or disabled are resolved.
 */
export class Evaluator {
  constructor(private readonly o: EvaluatorOptions) {}

  /** Hands the error log's pending counts to the store; on failure they are kept for the next try. */
  async flush(): Promise<void> {
    const drained = this.o.errorLog.drain();
    try {
      await this.o.store.addErrorCounts(this.o.instanceId, drained.errors, drained.latency);
    } catch (err) {
      this.o.errorLog.restore(drained);
      throw err;
    }
  }

  async run(): Promise<EvaluationSummary> {
    const { store, now } = this.o;
    const t = now();
    await this.flush();
    const rules = this.o.rules().filter((r) => r.enabled);
    const bucketMs = this.o.errorLog.bucketMs;
    let maxWindow = 0;
    for (const r of rules) if (r.kind === 'errors' || r.kind === 'responseTime') maxWindow = Math.max(maxWindow, r.windowMs);
    const since = t - maxWindow - bucketMs;
    const [errors, latency, open] = await Promise.all([
      rules.some((r) => r.kind === 'errors') ? store.errorCounts(since) : Promise.resolve([]),
      rules.some((r) => r.kind === 'responseTime') ? store.latency(since) : Promise.resolve([]),
      store.active(),
    ]);
    let report: HealthReport | undefined;
    try {
      report = this.o.service.report();
    } catch {
      report = undefined; // not evaluated yet: KPI and dependency rules are unknown
    }

    const conditions: Condition[] = [];
    for (const rule of rules) {
      switch (rule.kind) {
        case 'errors':
          conditions.push(...this.errorsConditions(rule, errors, t));
          break;
        case 'responseTime':
          conditions.push(this.responseTimeCondition(rule, latency, t));
          break;
        case 'kpi':
          conditions.push(this.kpiCondition(rule, report));
          break;
        case 'dependency':
          conditions.push(...this.dependencyConditions(rule, report));
          break;
      }
    }
    // Open alerts of a rule that no longer produced their group are inactive (the count dropped to
    // zero, the dependency disappeared); those whose rule is gone or disabled are resolved as such.
    const enabled = new Map(rules.map((r) => [r.id, r]));
    const seen = new Set(conditions.map((c) => c.fingerprint));
    const orphaned: AlertRecord[] = [];
    for (const a of open) {
      if (a.origin !== 'rule' || seen.has(a.fingerprint)) continue;
      const rule = enabled.get(a.ruleId);
      if (rule === undefined) {
        orphaned.push(a);
        continue;
      }
      if (rule.kind === 'errors' || (rule.kind === 'dependency' && report !== undefined)) {
        conditions.push({ fingerprint: a.fingerprint, rule, state: 'inactive', labels: a.labels, category: a.category, value: 0, title: a.title, description: a.description });
      }
    }

    const votes = conditions.filter((c) => c.state !== 'unknown').map((c) => ({ fingerprint: c.fingerprint, active: c.state === 'active' }));
    await store.observe(this.o.instanceId, votes, t);

    const openByFp = new Map(open.map((a) => [a.fingerprint, a]));
    let fired = 0;
    let resolved = 0;
    const by = `instance:${this.o.instanceId}`;
    for (const c of conditions) {
      if (c.state === 'active') {
        const labels = { rule: c.rule.id, kind: c.rule.kind, ...c.labels };
        const { alert, created } = await store.fire(
          { fingerprint: c.fingerprint, ruleId: c.rule.id, origin: 'rule', severity: c.rule.severity, category: c.category, title: c.title, description: c.description, labels, value: c.value, firedAt: t },
          { instanceId: this.o.instanceId, at: t, notify: this.o.notify },
        );
        if (created) fired++;
        this.o.onAlert(alert, created ? 'fired' : 'refreshed');
      } else if (c.state === 'inactive' && openByFp.has(c.fingerprint)) {
        const alert = await store.resolveFingerprint(c.fingerprint, {
          instanceId: this.o.instanceId,
          at: t,
          notify: this.o.notify,
          by,
          resolution: 'auto',
          note: 'condition cleared',
          vote: { freshSince: t - this.o.staleAfterMs },
        });
        if (alert !== null) {
          resolved++;
          this.o.onAlert(alert, 'resolved');
        }
      }
    }
    for (const a of orphaned) {
      const alert = await store.resolveFingerprint(a.fingerprint, { instanceId: this.o.instanceId, at: t, notify: this.o.notify, by, resolution: 'rule-disabled', note: `rule ${a.ruleId} is disabled or gone` });
      if (alert !== null) {
        resolved++;
        this.o.onAlert(alert, 'resolved');
      }
    }
    return { at: new Date(t).toISOString(), fired, resolved, active: open.length + fired - resolved, conditions: conditions.length };
  }

  private errorsConditions(rule: ErrorsRule, rows: readonly ErrorCountRow[], t: number): Condition[] {
    const from = t - rule.windowMs - this.o.errorLog.bucketMs;
    const { categories, levels, sources } = rule.match;
    const groups = new Map<string, { labels: Record<string, string>; count: number }>();
    for (const r of rows) {
      if (r.bucket <= from) continue;
      if (categories !== undefined && !categories.includes(r.category)) continue;
      if (levels !== undefined && !levels.includes(r.level)) continue;
      if (sources !== undefined && !sources.includes(r.source)) continue;
      const labels: Record<string, string> = {};
      for (const g of rule.groupBy) labels[g] = r[g];
      const key = JSON.stringify(labels);
      const cur = groups.get(key);
      if (cur === undefined) groups.set(key, { labels, count: r.count });
      else cur.count += r.count;
    }
    if (rule.groupBy.length === 0 && groups.size === 0) groups.set('{}', { labels: {}, count: 0 });
    const window = formatDuration(rule.windowMs);
    const out: Condition[] = [];
    for (const { labels, count } of groups.values()) {
      const active = rule.operator === '>' ? count > rule.threshold : count >= rule.threshold;
      const level = labels.level ?? (levels?.length === 1 ? levels[0] : undefined);
      const category = labels.category ?? (categories?.length === 1 ? categories[0] : undefined);
      const what = [level, category, labels.source].filter((x) => x !== undefined).join(' ');
      const samples = this.o.errorLog
        .recent(50)
        .filter((s) => (categories === undefined || categories.includes(s.category)) && (levels === undefined || levels.includes(s.level)) && (labels.category === undefined || s.category === labels.category))
        .slice(0, 3)
        .map((s) => `${s.at} ${s.category}/${s.level}: ${s.message}`);
      out.push({
        fingerprint: fingerprint(rule.id, labels),
        rule,
        state: active ? 'active' : 'inactive',
        labels,
        category: (labels.category as Category | undefined) ?? rule.category,
        value: count,
        title: `${rule.name}: ${plural(count, `${what === '' ? '' : `${what} `}error`)} in the last ${window} (threshold ${rule.operator} ${rule.threshold})`,
        description: [rule.description ?? '', ...(samples.length > 0 ? ['Recent:', ...samples] : [])].filter((x) => x !== '').join('\n'),
      });
    }
    return out;
  }

  private responseTimeCondition(rule: ResponseTimeRule, rows: readonly LatencyRow[], t: number): Condition {
    const from = t - rule.windowMs - this.o.errorLog.bucketMs;
    let max = 0;
    let responses = 0;
    for (const r of rows) {
      if (r.bucket <= from) continue;
      responses += r.responses;
      if (r.maxSeconds > max) max = r.maxSeconds;
    }
    const rounded = Math.round(max * 10) / 10;
    return {
      fingerprint: fingerprint(rule.id),
      rule,
      state: max > rule.threshold ? 'active' : 'inactive',
      labels: {},
      category: rule.category,
      value: max,
      title: `${rule.name}: slowest response ${rounded} s in the last ${formatDuration(rule.windowMs)} (threshold ${rule.threshold} s)`,
      description: `${rule.description ?? ''}${rule.description ? '\n' : ''}${plural(responses, 'response')} in the window.`,
    };
  }

  private kpiCondition(rule: KpiRule, report: HealthReport | undefined): Condition {
    const k = report?.kpis.find((x) => x.name === rule.kpi);
    const base = { fingerprint: fingerprint(rule.id), rule, labels: { kpi: rule.kpi }, category: rule.category };
    if (k === undefined || !k.graded) {
      return { ...base, state: 'unknown', value: null, title: rule.name, description: k?.message ?? 'not graded' };
    }
    const active = STATUS_RANK[k.status] >= STATUS_RANK[rule.level];
    return {
      ...base,
      state: active ? 'active' : 'inactive',
      value: k.value ?? null,
      title: `${rule.name}: ${k.display ?? k.value} (threshold ${k.threshold ?? '?'})`,
      description: [rule.description ?? '', k.message ?? `${k.name} ${k.status}`, `${k.samples} samples; target ${k.target}`].filter((x) => x !== '').join('\n'),
    };
  }

  private dependencyConditions(rule: DependencyRule, report: HealthReport | undefined): Condition[] {
    if (report === undefined) return [];
    const out: Condition[] = [];
    for (const d of report.dependencies) {
      if (rule.dependencies !== undefined && !rule.dependencies.includes(d.name)) continue;
      if (rule.required !== undefined && d.required !== rule.required) continue;
      const labels = { dependency: d.name };
      const unknown = d.message === 'not checked yet';
      out.push({
        fingerprint: fingerprint(rule.id, labels),
        rule,
        state: unknown ? 'unknown' : d.status === 'fail' ? 'active' : 'inactive',
        labels,
        category: rule.category ?? componentCategory(d.component),
        value: d.value ?? null,
        title: `${rule.name}: ${d.name}${d.message ? ` (${d.message})` : ''}`,
        description: [rule.description ?? '', `${d.name} (${d.component}, ${d.required ? 'required' : 'optional'}) is ${d.status}${d.message ? `: ${d.message}` : ''}`, `checked at ${d.time}`].filter((x) => x !== '').join('\n'),
      });
    }
    return out;
  }
}
