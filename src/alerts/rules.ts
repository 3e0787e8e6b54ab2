import { parseDuration } from '../../common/config';
import { KPIS, KPI_KEYS, type KpiKey } from '../grading/kpis';
import { CATEGORIES, LEVELS, SEVERITIES, SOURCES, type Category, type Level, type Severity, type Source } from './types';
import { ChatpulseConfigError } from '../../common/errors';

/**
 * Alert rules: their schema, the defaults (the five built-in rules, the required/optional dependency
 * rules, and every health KPI at warn and at fail), and validation whose errors name the field
 * (`alerts.rules[3].threshold: expected a positive number`).
 *
 * Kinds:
 * - `errors`: tracked errors matching `match` within `window`, compared with `threshold`
 *   (`operator` `>` or `>=`), optionally one alert per `groupBy` value (category, level, source).
 * - `responseTime`: any response (stream or HTTP request) slower than `threshold` seconds within
 *   `window`.
 * - `kpi`: the health grading's KPI at `level` (`warn`: warn or fail; `fail`: fail only).
 * - `dependency`: a dependency check failing (one alert per dependency), optionally only
 *   `required` (or optional) ones, or only the named `dependencies`.
 */

export type RuleKind = 'errors' | 'responseTime' | 'kpi' | 'dependency';
export const RULE_KINDS: readonly RuleKind[] = Object.freeze(['errors', 'responseTime', 'kpi', 'dependency']);
export type GroupKey = 'category' | 'level' | 'source';
export const GROUP_KEYS: readonly GroupKey[] = Object.freeze(['category', 'level', 'source']);
export type Operator = '>' | '>=';

interface RuleCommon {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly severity: Severity;
  readonly enabled: boolean;
}

export interface ErrorsRule extends RuleCommon {
  readonly kind: 'errors';
  readonly category: Category;
  readonly windowMs: number;
  readonly operator: Operator;
  readonly threshold: number;
  readonly match: { readonly categories?: readonly Category[]; readonly levels?: readonly Level[]; readonly sources?: readonly Source[] };
  readonly groupBy: readonly GroupKey[];
}

export interface ResponseTimeRule extends RuleCommon {
  readonly kind: 'responseTime';
  readonly category: Category;
  readonly windowMs: number;
  /** Seconds. */
  readonly threshold: number;
}

export interface KpiRule extends RuleCommon {
  readonly kind: 'kpi';
  readonly category: Category;
  readonly kpi: KpiKey;
  readonly level: 'warn' | 'fail';
}

export interface DependencyRule extends RuleCommon {
  readonly kind: 'dependency';
  /** Undefined: from the dependency's component (database → database, anything else → integration). */
  readonly category?: Category;
  readonly dependencies?: readonly string[];
  readonly required?: boolean;
}

export type Rule = ErrorsRule | ResponseTimeRule | KpiRule | DependencyRule;

/** Where the effective version of a rule comes from. */
export type RuleSource = 'default' | 'file' | 'api';
export interface EffectiveRule {
  readonly rule: Rule;
  readonly source: RuleSource;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

/**
 * An invalid `alerts` section throws the catalogue's ChatpulseConfigError listing every problem
 * (`errors`), each naming its field; the old name stays an alias.
 */
export { ChatpulseConfigError as AlertConfigError };

/** Category of each KPI's alerts: where an on-call engineer would look first. */
export const KPI_CATEGORY: Readonly<Record<KpiKey, Category>> = Object.freeze({
  timeToFirstToken: 'llm',
  timeToFirstAudio: 'tts',
  completeResponse: 'llm',
  streamSuccessRate: 'system',
  errorRate: 'system',
  kbCacheHitRate: 'integration',
  ttsCacheHitRate: 'tts',
  activeStreams: 'system',
  memory: 'system',
  cpu: 'system',
  eventLoopDelay: 'system',
  upstreamTimeToFirstChunk: 'llm',
  upstreamErrorRate: 'llm',
});

const MIN = 60_000;

/** The five built-in rules, the dependency rules, then every KPI at warn and at fail. */
export function defaultRules(): Rule[] {
  const rules: Rule[] = [
    {
      id: 'high-error-rate',
      kind: 'errors',
      name: 'High error rate',
      description: 'More than 10 errors within 5 minutes (levels error and critical; failed streams are already counted through chatbot.errors).',
      severity: 'warning',
      category: 'system',
      enabled: true,
      windowMs: 5 * MIN,
      operator: '>',
      threshold: 10,
      match: { levels: ['error', 'critical'], sources: ['metric', 'dependency', 'manual'] },
      groupBy: [],
    },
    {
      id: 'database-errors',
      kind: 'errors',
      name: 'Database errors',
      description: '3 or more database errors within 5 minutes.',
      severity: 'warning',
      category: 'database',
      enabled: true,
      windowMs: 5 * MIN,
      operator: '>=',
      threshold: 3,
      match: { categories: ['database'] },
      groupBy: [],
    },
    {
      id: 'authentication-failures',
      kind: 'errors',
      name: 'Authentication failures',
      description: '5 or more authentication failures (401/403 answers, tracked auth errors) within 10 minutes.',
      severity: 'warning',
      category: 'authentication',
      enabled: true,
      windowMs: 10 * MIN,
      operator: '>=',
      threshold: 5,
      match: { categories: ['authentication'] },
      groupBy: [],
    },
    {
      id: 'critical-error',
      kind: 'errors',
      name: 'Critical error',
      description: 'Any critical error, at once (evaluated as soon as it is tracked); resolves after 5 quiet minutes.',
      severity: 'critical',
      category: 'system',
      enabled: true,
      windowMs: 5 * MIN,
      operator: '>=',
      threshold: 1,
      match: { levels: ['critical'] },
      groupBy: ['category'],
    },
    {
      id: 'slow-responses',
      kind: 'responseTime',
      name: 'Slow responses',
      description: 'A response (stream or HTTP request) took longer than 30 seconds within 5 minutes.',
      severity: 'warning',
      category: 'system',
      enabled: true,
      windowMs: 5 * MIN,
      threshold: 30,
    },
    {
      id: 'required-dependency-down',
      kind: 'dependency',
      name: 'Required dependency down',
      description: 'A required dependency check fails (the service is unhealthy).',
      severity: 'critical',
      enabled: true,
      required: true,
    },
    {
      id: 'optional-dependency-down',
      kind: 'dependency',
      name: 'Optional dependency down',
      description: 'An optional dependency check fails (the service is degraded).',
      severity: 'warning',
      enabled: true,
      required: false,
    },
  ];
  for (const def of KPIS) {
    for (const level of ['warn', 'fail'] as const) {
      rules.push({
        id: `kpi-${def.key}-${level}`,
        kind: 'kpi',
        name: `${def.label} ${level === 'warn' ? 'degraded' : 'failing'}`,
        description: level === 'warn' ? `${def.label} breaches its warn threshold (or its fail threshold).` : `${def.label} breaches its fail threshold.`,
        severity: level === 'warn' ? 'warning' : 'critical',
        category: KPI_CATEGORY[def.key],
        enabled: true,
        kpi: def.key,
        level,
      });
    }
  }
  return rules.map(freezeRule);
}

function freezeRule<R extends Rule>(r: R): R {
  return Object.freeze(r);
}

/** `300000` → `5m`; exact units only, else milliseconds. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The rule as it is written in the config file and accepted by PUT (durations as `5m`). */
export function ruleToInput(r: Rule): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id, kind: r.kind, name: r.name };
  if (r.description !== undefined) out.description = r.description;
  out.severity = r.severity;
  if (r.category !== undefined) out.category = r.category;
  out.enabled = r.enabled;
  switch (r.kind) {
    case 'errors':
      out.window = formatDuration(r.windowMs);
      out.operator = r.operator;
      out.threshold = r.threshold;
      out.match = { ...r.match };
      out.groupBy = [...r.groupBy];
      break;
    case 'responseTime':
      out.window = formatDuration(r.windowMs);
      out.threshold = r.threshold;
      break;
    case 'kpi':
      out.kpi = r.kpi;
      out.level = r.level;
      break;
    case 'dependency':
      if (r.dependencies !== undefined) out.dependencies = [...r.dependencies];
      if (r.required !== undefined) out.required = r.required;
      break;
  }
  return out;
}

const COMMON_FIELDS = ['id', 'kind', 'name', 'description', 'severity', 'category', 'enabled'];
const KIND_FIELDS: Record<RuleKind, string[]> = {
  errors: ['window', 'operator', 'threshold', 'match', 'groupBy'],
  responseTime: ['window', 'threshold'],
  kpi: ['kpi', 'level'],
  dependency: ['dependencies', 'required'],
};
/** Shown by GET and ignored on PUT, so a listed rule can be sent back as it is. */
const READ_ONLY_FIELDS = ['source', 'updatedAt', 'updatedBy'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const MAX_WINDOW_MS = 86_400_000;

const list = (xs: readonly string[]) => xs.join(', ');

/**
 * Validates one rule. `at` prefixes every error (`alerts.rules[3]` → `alerts.rules[3].threshold: …`);
 * `base` is the rule this input overrides (a default), whose fields fill in what the input omits.
 */
export function parseRule(input: unknown, at: string, base?: Rule): { rule?: Rule; errors: string[] } {
  const errors: string[] = [];
  const f = (field: string) => (at === '' ? field : `${at}.${field}`);
  const err = (field: string, message: string) => errors.push(`${f(field)}: ${message}`);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { errors: [`${at === '' ? 'rule' : at}: expected a mapping with id, kind, name, …`] };
  }
  let raw = input as Record<string, unknown>;
  if (base !== undefined && (raw.kind === undefined || raw.kind === base.kind)) raw = { ...ruleToInput(base), ...raw };

  const kind = raw.kind;
  if (!RULE_KINDS.includes(kind as RuleKind)) {
    err('kind', `expected one of ${list(RULE_KINDS)}, got ${JSON.stringify(kind)}`);
    return { errors };
  }
  const k = kind as RuleKind;
  for (const key of Object.keys(raw)) {
    if (!COMMON_FIELDS.includes(key) && !KIND_FIELDS[k].includes(key) && !READ_ONLY_FIELDS.includes(key)) {
      err(key, `unknown field for a ${k} rule (known: ${list([...COMMON_FIELDS, ...KIND_FIELDS[k]])})`);
    }
  }
  const id = raw.id;
  if (typeof id !== 'string' || !ID.test(id)) err('id', 'expected 1-64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');
  const name = raw.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) err('name', 'expected a non-empty string of at most 200 characters');
  const description = raw.description;
  if (description !== undefined && (typeof description !== 'string' || description.length > 2000)) err('description', 'expected a string of at most 2000 characters');
  const severity = raw.severity;
  if (!(SEVERITIES as readonly unknown[]).includes(severity)) err('severity', `expected one of ${list(SEVERITIES)}, got ${JSON.stringify(severity)}`);
  const category = raw.category;
  if (category !== undefined && !(CATEGORIES as readonly unknown[]).includes(category)) err('category', `expected one of ${list(CATEGORIES)}, got ${JSON.stringify(category)}`);
  const enabled = raw.enabled ?? true;
  if (typeof enabled !== 'boolean') err('enabled', 'expected true or false');

  const window = (): number => {
    const ms = parseDuration(raw.window);
    if (ms === undefined || ms < 1000 || ms > MAX_WINDOW_MS) {
      err('window', `expected a duration from 1s to 24h such as 30s, 5m or 1h, got ${JSON.stringify(raw.window)}`);
      return 0;
    }
    return ms;
  };
  const positive = (field: string, allowZero = false): number => {
    const v = raw[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
      err(field, `expected a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(v)}`);
      return 0;
    }
    return v;
  };
  const subset = <T extends string>(field: string, v: unknown, allowed: readonly T[]): T[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => !allowed.includes(x as T))) {
      err(field, `expected a non-empty list of ${list(allowed)}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return [...new Set(v as T[])];
  };

  const common = {
    id: id as string,
    name: typeof name === 'string' ? name.trim() : '',
    ...(typeof description === 'string' ? { description } : {}),
    severity: severity as Severity,
    enabled: enabled as boolean,
  };
  let rule: Rule | undefined;
  switch (k) {
    case 'errors': {
      const windowMs = window();
      const operator = raw.operator ?? '>=';
      if (operator !== '>' && operator !== '>=') err('operator', `expected ">" or ">=", got ${JSON.stringify(operator)}`);
      const threshold = positive('threshold', operator === '>');
      const m = raw.match ?? {};
      const match: { categories?: Category[]; levels?: Level[]; sources?: Source[] } = {};
      if (m === null || typeof m !== 'object' || Array.isArray(m)) {
        err('match', 'expected a mapping with categories, levels and/or sources');
      } else {
        for (const key of Object.keys(m)) if (!['categories', 'levels', 'sources'].includes(key)) err(`match.${key}`, 'unknown field (known: categories, levels, sources)');
        const mm = m as Record<string, unknown>;
        const categories = subset('match.categories', mm.categories, CATEGORIES);
        const levels = subset('match.levels', mm.levels, LEVELS);
        const sources = subset('match.sources', mm.sources, SOURCES);
        if (categories) match.categories = categories;
        if (levels) match.levels = levels;
        if (sources) match.sources = sources;
      }
      const groupBy = raw.groupBy === undefined || (Array.isArray(raw.groupBy) && raw.groupBy.length === 0) ? [] : (subset('groupBy', raw.groupBy, GROUP_KEYS) ?? []);
      const derived: Category = match.categories?.length === 1 ? match.categories[0]! : 'system';
      rule = { ...common, kind: 'errors', category: (category as Category | undefined) ?? derived, windowMs, operator: operator as Operator, threshold, match, groupBy };
      break;
    }
    case 'responseTime': {
      const windowMs = window();
      const threshold = positive('threshold');
      rule = { ...common, kind: 'responseTime', category: (category as Category | undefined) ?? 'system', windowMs, threshold };
      break;
    }
    case 'kpi': {
      const kpi = raw.kpi;
      if (!KPI_KEYS.includes(kpi as KpiKey)) err('kpi', `expected one of ${list(KPI_KEYS)}, got ${JSON.stringify(kpi)}`);
      const level = raw.level;
      if (level !== 'warn' && level !== 'fail') err('level', `expected "warn" or "fail", got ${JSON.stringify(level)}`);
      const cat = (category as Category | undefined) ?? (KPI_KEYS.includes(kpi as KpiKey) ? KPI_CATEGORY[kpi as KpiKey] : 'system');
      rule = { ...common, kind: 'kpi', category: cat, kpi: kpi as KpiKey, level: level as 'warn' | 'fail' };
      break;
    }
    case 'dependency': {
      const deps = raw.dependencies;
      if (deps !== undefined && (!Array.isArray(deps) || deps.length === 0 || deps.some((d) => typeof d !== 'string' || d === ''))) {
        err('dependencies', 'expected a non-empty list of dependency check names');
      }
      const required = raw.required;
      if (required !== undefined && typeof required !== 'boolean') err('required', 'expected true or false');
      rule = {
        ...common,
        kind: 'dependency',
        ...(category !== undefined ? { category: category as Category } : {}),
        ...(Array.isArray(deps) ? { dependencies: [...new Set(deps as string[])] } : {}),
        ...(typeof required === 'boolean' ? { required } : {}),
      };
      break;
    }
  }
  return errors.length > 0 ? { errors } : { rule: freezeRule(rule!), errors };
}

/** The rules of the config file's `alerts` section merged over the defaults. */
export interface RuleSet {
  readonly rules: readonly EffectiveRule[];
}

/**
 * Merges `alerts.rules` over the defaults: an entry whose id is a default's overrides that rule
 * (omitted fields keep the default's values); a new id adds a rule (every field needed);
 * `alerts.defaults: false` drops the defaults. Throws ChatpulseConfigError listing every problem.
 */
export function resolveRules(rulesInput: unknown, includeDefaults: boolean, at = 'alerts.rules'): EffectiveRule[] {
  const defaults = includeDefaults ? defaultRules() : [];
  const byId = new Map<string, EffectiveRule>(defaults.map((r) => [r.id, { rule: r, source: 'default' as const }]));
  if (rulesInput === undefined || rulesInput === null) return [...byId.values()];
  if (!Array.isArray(rulesInput)) throw ChatpulseConfigError.of(at, 'expected a list of rules');
  const errors: string[] = [];
  const seen = new Set<string>();
  rulesInput.forEach((entry, i) => {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id === 'string') {
      if (seen.has(id)) {
        errors.push(`${at}[${i}].id: duplicate rule id ${JSON.stringify(id)}`);
        return;
      }
      seen.add(id);
    }
    const base = typeof id === 'string' ? byId.get(id) : undefined;
    const { rule, errors: e } = parseRule(entry, `${at}[${i}]`, base?.source === 'default' ? base.rule : undefined);
    errors.push(...e);
    if (rule !== undefined) byId.set(rule.id, { rule, source: 'file' });
  });
  if (errors.length > 0) throw ChatpulseConfigError.fromMessages(errors);
  return [...byId.values()];
}

/** The longest window any rule looks back over (how much error history evaluation needs). */
export function maxWindowMs(rules: readonly Rule[]): number {
  let max = 0;
  for (const r of rules) if ((r.kind === 'errors' || r.kind === 'responseTime') && r.enabled) max = Math.max(max, r.windowMs);
  return max;
}
