/** The shipped Prometheus rule files, flattened, and the names they define. */
import * as path from 'node:path';
import { ATTR, METRICS, allPrometheusSeriesNames, prometheusLabel, prometheusSeriesNames } from '../../../instrumentation/metrics/catalog';
import { RULES_DIR, listFiles, readYaml } from './repo';

export interface Rule {
  readonly file: string;
  readonly group: string;
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

interface RuleFile {
  groups: { name: string; interval?: string; rules: Omit<Rule, 'file' | 'group'>[] }[];
}

export function ruleFiles(): string[] {
  return listFiles(RULES_DIR, '.rules.yml');
}

export function loadRules(): Rule[] {
  const out: Rule[] = [];
  for (const file of ruleFiles()) {
    const doc = readYaml<RuleFile>(file);
    for (const g of doc.groups) for (const r of g.rules) out.push({ ...r, expr: String(r.expr), file: path.basename(file), group: g.name });
  }
  return out;
}

export const recordingRules = (rules: Rule[]): Rule[] => rules.filter((r) => r.record !== undefined);
export const alertingRules = (rules: Rule[]): Rule[] => rules.filter((r) => r.alert !== undefined);

/** Series Prometheus itself synthesises and that rules may use besides the catalog's. */
export const PROMETHEUS_SYNTHETIC_SERIES: ReadonlySet<string> = new Set(['up']);
/** Labels every scraped series carries (target labels and the exporter's service_name) plus histogram `le`. */
export const COMMON_LABELS: ReadonlySet<string> = new Set(['job', 'instance', 'service_name']);

export interface KnownNames {
  readonly metrics: Set<string>;
  readonly labels: Set<string>;
  readonly labelsByMetric: Map<string, Set<string>>;
}

/** Every metric and label name a rule or dashboard may refer to, from the catalog and the recording rules. */
export function knownNames(rules: Rule[] = loadRules()): KnownNames {
  const metrics = new Set<string>([...allPrometheusSeriesNames(), ...PROMETHEUS_SYNTHETIC_SERIES]);
  for (const r of recordingRules(rules)) metrics.add(r.record!);
  const labels = new Set<string>([...COMMON_LABELS, 'le']);
  for (const key of Object.values(ATTR)) labels.add(prometheusLabel(key));
  for (const r of recordingRules(rules)) for (const l of Object.keys(r.labels ?? {})) labels.add(l);
  const labelsByMetric = new Map<string, Set<string>>();
  for (const m of Object.values(METRICS)) {
    for (const series of prometheusSeriesNames(m)) {
      const allowed = new Set<string>([...COMMON_LABELS, ...m.attributes.map(prometheusLabel)]);
      if (series.endsWith('_bucket')) allowed.add('le');
      labelsByMetric.set(series, allowed);
    }
  }
  labelsByMetric.set('up', new Set(COMMON_LABELS));
  return { metrics, labels, labelsByMetric };
}
