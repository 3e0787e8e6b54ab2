/**
 * A small PromQL scanner that finds the identifiers an expression depends on: metric names (series
 * selectors and recording-rule names), label names (in matchers and in by/without/on/ignoring/
 * group_left/group_right lists) and function names. It is not a full parser: it tokenises, skips
 * strings, numbers, durations, range/subquery brackets and keywords, and classifies identifiers by
 * what follows them. Unknown functions and malformed matchers are errors, so typos surface.
 */

/** PromQL functions (Prometheus 2.x/3.x). An identifier followed by `(` must be one of these. */
export const PROMQL_FUNCTIONS: ReadonlySet<string> = new Set([
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time',
  'ceil', 'changes', 'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month',
  'day_of_week', 'day_of_year', 'days_in_month', 'deg', 'delta', 'deriv', 'exp', 'floor', 'histogram_avg',
  'histogram_count', 'histogram_fraction', 'histogram_quantile', 'histogram_stddev', 'histogram_stdvar',
  'histogram_sum', 'holt_winters', 'double_exponential_smoothing', 'hour', 'idelta', 'increase', 'irate',
  'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time',
  'min_over_time', 'minute', 'month', 'pi', 'predict_linear', 'present_over_time', 'quantile_over_time', 'rad',
  'rate', 'resets', 'round', 'scalar', 'sgn', 'sin', 'sinh', 'sort', 'sort_by_label', 'sort_by_label_desc',
  'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time', 'tan', 'tanh', 'time',
  'timestamp', 'vector', 'year', 'info',
]);

/** Aggregation operators: followed by `(` or by a by/without clause. */
export const PROMQL_AGGREGATIONS: ReadonlySet<string> = new Set([
  'sum', 'avg', 'count', 'min', 'max', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values',
  'group', 'limitk', 'limit_ratio',
]);

/** Keywords whose parenthesised argument is a list of label names. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Other keywords and literals that are neither metrics nor labels. */
const PLAIN_KEYWORDS = new Set(['and', 'or', 'unless', 'atan2', 'bool', 'offset', 'inf', 'nan', 'start', 'end']);

export interface PromqlRefs {
  /** Metric names used as series selectors (including recording-rule names). */
  readonly metrics: Set<string>;
  /** Every label name the expression refers to. */
  readonly labels: Set<string>;
  readonly functions: Set<string>;
  /** Label names per selector, e.g. `rate(x{a="1"}[5m])` gives { metric: 'x', labels: ['a'] }. */
  readonly selectors: { metric: string; labels: string[] }[];
}

export class PromqlSyntaxError extends Error {}

type Token =
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: string; pos: number }
  | { kind: 'punct'; value: string; pos: number }
  | { kind: 'range'; value: string; pos: number };

const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
// Numbers, durations (5m, 1h30m) and hex literals.
const NUMBER = /(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:ms|[smhdwy])?(?:\d+(?:ms|[smhdwy]))*)/y;
const PUNCT = ['==', '!=', '=~', '!~', '<=', '>=', '+', '-', '*', '/', '%', '^', '<', '>', '=', '(', ')', '{', '}', ',', '@'];

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const start = i++;
      let value = '';
      while (i < expr.length && expr[i] !== c) {
        if (expr[i] === '\\' && c !== '`') {
          value += expr[i + 1] ?? '';
          i += 2;
        } else value += expr[i++];
      }
      if (i >= expr.length) throw new PromqlSyntaxError(`unterminated string at ${start} in: ${expr}`);
      i++;
      tokens.push({ kind: 'string', value, pos: start });
      continue;
    }
    if (c === '[') {
      const start = i;
      const close = expr.indexOf(']', i);
      if (close === -1) throw new PromqlSyntaxError(`unterminated [ at ${start} in: ${expr}`);
      const inner = expr.slice(i + 1, close).trim();
      // A range `[5m]` or a subquery `[1h:5m]` / `[1h:]`; Grafana's $__rate_interval is substituted before.
      if (!/^[0-9a-z.]+(:[0-9a-z.]*)?$/.test(inner)) throw new PromqlSyntaxError(`bad range [${inner}] in: ${expr}`);
      tokens.push({ kind: 'range', value: inner, pos: start });
      i = close + 1;
      continue;
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(expr);
    if (id && /[a-zA-Z_:]/.test(c)) {
      tokens.push({ kind: 'ident', value: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(expr);
    if (num && num[0] !== '') {
      tokens.push({ kind: 'number', value: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const p = PUNCT.find((op) => expr.startsWith(op, i));
    if (!p) throw new PromqlSyntaxError(`unexpected character ${JSON.stringify(c)} at ${i} in: ${expr}`);
    tokens.push({ kind: 'punct', value: p, pos: i });
    i += p.length;
  }
  return tokens;
}

const isPunct = (t: Token | undefined, v: string): boolean => t !== undefined && t.kind === 'punct' && t.value === v;

/** Identifiers an expression depends on. Throws PromqlSyntaxError on what it cannot make sense of. */
export function extractPromql(expr: string): PromqlRefs {
  const tokens = tokenize(expr);
  const refs: PromqlRefs = { metrics: new Set(), labels: new Set(), functions: new Set(), selectors: [] };
  let depth = 0;

  /** Parses `{ label op "value", ... }` starting at tokens[i] === '{'; returns the index after '}'. */
  function matchers(i: number, selectorLabels: string[]): number {
    i++;
    while (!isPunct(tokens[i], '}')) {
      const name = tokens[i];
      if (name === undefined) throw new PromqlSyntaxError(`unterminated { in: ${expr}`);
      if (name.kind !== 'ident') throw new PromqlSyntaxError(`expected a label name at ${name.pos}, got ${name.value} in: ${expr}`);
      const op = tokens[i + 1];
      if (!op || op.kind !== 'punct' || !['=', '!=', '=~', '!~'].includes(op.value)) {
        throw new PromqlSyntaxError(`expected a matcher operator after ${name.value} in: ${expr}`);
      }
      const value = tokens[i + 2];
      if (!value || value.kind !== 'string') throw new PromqlSyntaxError(`expected a quoted value for ${name.value} in: ${expr}`);
      if (name.value !== '__name__') {
        refs.labels.add(name.value);
        selectorLabels.push(name.value);
      }
      i += 3;
      if (isPunct(tokens[i], ',')) i++;
      else if (!isPunct(tokens[i], '}')) throw new PromqlSyntaxError(`expected , or } after ${name.value} in: ${expr}`);
    }
    return i + 1;
  }

  /** Parses `( label, label, ... )` starting at tokens[i] === '('; returns the index after ')'. */
  function labelList(i: number): number {
    i++;
    while (!isPunct(tokens[i], ')')) {
      const t = tokens[i];
      if (t === undefined) throw new PromqlSyntaxError(`unterminated label list in: ${expr}`);
      if (t.kind !== 'ident') throw new PromqlSyntaxError(`expected a label name at ${t.pos}, got ${t.value} in: ${expr}`);
      refs.labels.add(t.value);
      i++;
      if (isPunct(tokens[i], ',')) i++;
    }
    return i + 1;
  }

  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.kind === 'punct') {
      if (t.value === '(') depth++;
      if (t.value === ')') depth--;
      if (depth < 0) throw new PromqlSyntaxError(`unbalanced ) at ${t.pos} in: ${expr}`);
      if (t.value === '{') {
        // A selector without a metric name: {__name__="x"} or {job="y"}.
        const selectorLabels: string[] = [];
        i = matchers(i, selectorLabels);
        continue;
      }
      i++;
      continue;
    }
    if (t.kind !== 'ident') {
      i++;
      continue;
    }
    const next = tokens[i + 1];
    const word = t.value;
    if (LABEL_LIST_KEYWORDS.has(word)) {
      i = isPunct(next, '(') ? labelList(i + 1) : i + 1;
      continue;
    }
    if (PLAIN_KEYWORDS.has(word.toLowerCase())) {
      i++;
      continue;
    }
    if (PROMQL_AGGREGATIONS.has(word) && (isPunct(next, '(') || (next?.kind === 'ident' && (next.value === 'by' || next.value === 'without')))) {
      refs.functions.add(word);
      i++;
      continue;
    }
    if (isPunct(next, '(')) {
      if (!PROMQL_FUNCTIONS.has(word)) throw new PromqlSyntaxError(`unknown function ${word}() in: ${expr}`);
      refs.functions.add(word);
      i++;
      continue;
    }
    // A series selector (metric or recording-rule name), optionally with matchers.
    refs.metrics.add(word);
    const selectorLabels: string[] = [];
    i++;
    if (isPunct(tokens[i], '{')) i = matchers(i, selectorLabels);
    refs.selectors.push({ metric: word, labels: selectorLabels });
  }
  if (depth !== 0) throw new PromqlSyntaxError(`unbalanced ( in: ${expr}`);
  return refs;
}

/** Grafana's built-in and template variables replaced by values PromQL accepts. */
export function substituteGrafanaVariables(expr: string, values: Readonly<Record<string, string>> = {}): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__interval|\$\{__interval\}|\$__range|\$\{__range\}/g, values.__rate_interval ?? '5m')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => values[(a ?? b)!] ?? '.*');
}

export interface NameCheck {
  readonly knownMetrics: ReadonlySet<string>;
  readonly knownLabels: ReadonlySet<string>;
  /** Labels each raw metric may carry, beyond the common ones: a matcher on another label is an error. */
  readonly labelsByMetric?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Problems (unknown metric or label names) of one expression; empty when every identifier is known. */
export function checkNames(expr: string, check: NameCheck): string[] {
  const problems: string[] = [];
  let refs: PromqlRefs;
  try {
    refs = extractPromql(expr);
  } catch (e) {
    return [(e as Error).message];
  }
  for (const m of refs.metrics) if (!check.knownMetrics.has(m)) problems.push(`unknown metric ${m}`);
  for (const l of refs.labels) if (!check.knownLabels.has(l)) problems.push(`unknown label ${l}`);
  if (check.labelsByMetric) {
    for (const s of refs.selectors) {
      const allowed = check.labelsByMetric.get(s.metric);
      if (!allowed) continue;
      for (const l of s.labels) if (!allowed.has(l)) problems.push(`metric ${s.metric} has no label ${l}`);
    }
  }
  return problems;
}
