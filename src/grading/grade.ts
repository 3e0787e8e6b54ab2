import type { CheckResult, CheckStatus } from '../checks/types';
import type { SignalSnapshot } from '../signals/snapshot';
import { formatValue } from './format';
import { KPIS, type KpiDefinition, type KpiKey, type KpiThresholds, type SubjectReading } from './kpis';

/** A graded KPI: a CheckResult that also says whether it was graded at all. */
export interface KpiResult extends CheckResult {
  readonly kpi: KpiKey;
  /** False when the window held too few samples: the status is then `pass` and says so. */
  readonly graded: boolean;
  readonly samples: number;
  readonly target: string;
  /** Per-model KPIs: the provider and model that decided (`openai/gpt-4o-mini`), when graded. */
  readonly subject?: string;
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

const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

/** One provider and model of a per-model KPI, graded (status undefined: too few samples). */
export interface SubjectGrade extends SubjectReading {
  readonly status: CheckStatus | undefined;
}

/**
 * Grades each provider and model of a per-model KPI on its own; the worst graded one decides
 * (status first, then the value in the KPI's bad direction). Shared by the KPI rows and the
 * passive upstream checks (checks/passive-upstreams.ts), so both apply the same thresholds.
 */
export function gradeSubjects(
  def: KpiDefinition,
  t: KpiThresholds,
  readings: readonly SubjectReading[],
  minSamples: number,
): { grades: SubjectGrade[]; worst: SubjectGrade | undefined } {
  let worst: SubjectGrade | undefined;
  const grades = readings.map((r): SubjectGrade => {
    const status = r.value === undefined || r.samples < minSamples ? undefined : statusFor(def, t, r.value);
    const g = { ...r, status };
    if (status !== undefined) {
      const worse =
        worst === undefined ||
        RANK[status] > RANK[worst.status!] ||
        (RANK[status] === RANK[worst.status!] && (def.direction === 'above' ? r.value! > worst.value! : r.value! < worst.value!));
      if (worse) worst = g;
    }
    return g;
  });
  return { grades, worst };
}

function gradePerModel(def: KpiDefinition, t: KpiThresholds, snapshot: SignalSnapshot, minSamples: number, base: Omit<KpiResult, 'status' | 'graded' | 'samples'>): KpiResult {
  const readings = def.readSubjects!(snapshot);
  const { grades, worst } = gradeSubjects(def, t, readings, minSamples);
  const details = {
    models: grades.map((g) => ({
      provider: g.provider,
      model: g.model,
      status: g.status ?? 'not graded',
      samples: g.samples,
      value: g.value ?? null,
      display: g.value === undefined ? null : formatValue(g.value, def.unit),
    })),
  };
  if (worst === undefined) {
    const most = readings.reduce((a, r) => Math.max(a, r.samples), 0);
    return {
      ...base,
      status: 'pass',
      graded: false,
      samples: most,
      ...(readings.length > 0 ? { details } : {}),
      message:
        readings.length === 0 || most === 0
          ? `not graded: no model calls in the last ${snapshot.windowSeconds}s`
          : `not graded: at most ${most} samples for one provider and model in the last ${snapshot.windowSeconds}s, needs ${minSamples}`,
    };
  }
  const subject = `${worst.provider}/${worst.model}`;
  const display = formatValue(worst.value!, def.unit);
  return {
    ...base,
    status: worst.status!,
    graded: true,
    samples: worst.samples,
    value: worst.value!,
    display,
    subject,
    details,
    ...(worst.status === 'pass' ? {} : { message: `${def.label} ${display} for ${worst.provider} model ${worst.model} breaches ${base.threshold}` }),
  };
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
    if (def.readSubjects !== undefined) {
      out.push(gradePerModel(def, t, snapshot, options.minSamples, base));
      continue;
    }
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
