import type { CheckResult, CheckStatus } from '../checks/types';
import type { SignalSnapshot } from '../signals/snapshot';
import { formatValue } from './format';
import { KPIS, type KpiDefinition, type KpiKey, type KpiThresholds } from './kpis';

/** A graded KPI: a CheckResult that also says whether it was graded at all. */
export interface KpiResult extends CheckResult {
  readonly kpi: KpiKey;
  /** False when the window held too few samples: the status is then `pass` and says so. */
  readonly graded: boolean;
  readonly samples: number;
  readonly target: string;
}

export interface GradingOptions {
  readonly thresholds: Readonly<Record<KpiKey, KpiThresholds>>;
  /** Samples a rate or percentile needs in the window before it is graded. */
  readonly minSamples: number;
  /** KPIs switched off (e.g. no TTS in this service). */
  readonly disabled?: ReadonlySet<KpiKey>;
}

export function statusFor(def: KpiDefinition, t: KpiThresholds, value: number): CheckStatus {
  if (def.direction === 'above') return value > t.fail ? 'fail' : value > t.warn ? 'warn' : 'pass';
  return value < t.fail ? 'fail' : value < t.warn ? 'warn' : 'pass';
}

function thresholdText(def: KpiDefinition, t: KpiThresholds): { threshold: string; target: string } {
  const f = (v: number) => formatValue(v, def.unit);
  return def.direction === 'above'
    ? { threshold: `≤${f(t.warn)} (fail >${f(t.fail)})`, target: `≤${f(t.target)}` }
    : { threshold: `≥${f(t.warn)} (fail <${f(t.fail)})`, target: `≥${f(t.target)}` };
}

/** Grades every enabled KPI against its thresholds. Pure: the same snapshot gives the same result. */
export function gradeKpis(snapshot: SignalSnapshot, options: GradingOptions, now = new Date()): KpiResult[] {
  const time = now.toISOString();
  const out: KpiResult[] = [];
  for (const def of KPIS) {
    if (options.disabled?.has(def.key)) continue;
    const t = options.thresholds[def.key];
    const { value, samples } = def.read(snapshot);
    const { threshold, target } = thresholdText(def, t);
    const base = {
      name: def.key,
      kpi: def.key,
      component: def.component,
      measurement: def.measurement,
      unit: def.unit,
      threshold,
      target,
      time,
      samples,
    };
    if (value === undefined || (def.needsSamples && samples < options.minSamples)) {
      out.push({
        ...base,
        status: 'pass',
        graded: false,
        ...(value === undefined ? {} : { value, display: formatValue(value, def.unit) }),
        message:
          value === undefined
            ? `not graded: no samples in the last ${snapshot.windowSeconds}s`
            : `not graded: ${samples} samples in the last ${snapshot.windowSeconds}s, needs ${options.minSamples}`,
      });
      continue;
    }
    const status = statusFor(def, t, value);
    out.push({
      ...base,
      status,
      graded: true,
      value,
      display: formatValue(value, def.unit),
      ...(status === 'pass' ? {} : { message: `${def.label} ${formatValue(value, def.unit)} breaches ${threshold}` }),
    });
  }
  return out;
}
