import type { CheckResult } from '../checks/types';
import { KPI_KEYS, type KpiKey } from '../grading/kpis';
import type { Parser } from '../../common/config';

/**
 * What readiness (/api/v1/health/ready) answers for, besides shutting down: a health group in the
 * manner of Spring Boot's readiness group and ASP.NET Core's tag predicates.
 *
 * Readiness tells the load balancer whether to send *this* instance traffic. It must fail only on
 * what makes this instance unable to serve, never on what every replica shares: when the model
 * API or an optional Redis slows down, a latency or error-rate KPI turns unhealthy on every
 * replica at once, and failing readiness on it pulls the whole fleet out of rotation (a slow
 * service becomes a total outage, held out for as long as the KPI window remembers). So by
 * default only required dependencies and event-loop saturation count; the KPI grades drive
 * `/api/v1/health`, the status page and alerts.
 *
 * The fleet server (`chatpulse serve`) reports about other processes: only the checks about
 * itself count (Prometheus answers), never the grade of the fleet it reports on.
 */
export interface ReadinessScope {
  /** The KPIs that count: every one (true), none (false), or these. */
  readonly kpis: boolean | readonly KpiKey[];
  /** Every dependency check counts with its own `required` flag. Default: true unless names or tags are given. */
  readonly required?: boolean;
  /** Checks that count by name, as required (a listed optional check failing fails readiness). */
  readonly dependencies?: readonly string[];
  /** Checks carrying one of these tags count, as required. */
  readonly tags?: readonly string[];
}

/** Every KPI and dependency (the pre-issue-16 in-process behaviour: `readiness: kpis,required`). */
export const FULL_READINESS: ReadinessScope = Object.freeze({ kpis: true, required: true });

/** The in-process default: required dependencies and event-loop saturation. */
export const DEFAULT_READINESS_MEMBERS: readonly string[] = Object.freeze(['required', 'eventLoopDelay']);
export const INSTANCE_READINESS: ReadinessScope = Object.freeze({ kpis: Object.freeze(['eventLoopDelay'] as KpiKey[]), required: true });

/**
 * How a dependency result counts toward readiness under `scope`: `own` (with its own required
 * flag: a failing optional check only degrades), `required` (named or tagged into the group), or
 * not at all.
 */
export function readinessWeight(scope: ReadinessScope, check: CheckResult & { tags?: readonly string[] }): 'own' | 'required' | undefined {
  if (scope.dependencies?.includes(check.name)) return 'required';
  if (scope.tags !== undefined && check.tags?.some((t) => scope.tags!.includes(t))) return 'required';
  const byDefault = scope.dependencies === undefined && scope.tags === undefined;
  return (scope.required ?? byDefault) ? 'own' : undefined;
}

/** Whether a dependency result counts toward readiness under `scope`. */
export function countsForReadiness(scope: ReadinessScope, check: CheckResult): boolean {
  return readinessWeight(scope, check) !== undefined;
}

/** Whether a KPI counts toward readiness under `scope`. */
export function kpiCountsForReadiness(scope: ReadinessScope, key: string): boolean {
  return scope.kpis === true || (Array.isArray(scope.kpis) && (scope.kpis as readonly string[]).includes(key));
}

const NAME = /^[a-z0-9_-]{1,64}$/;

/**
 * `readiness` (file, a list) or CHATPULSE_READINESS (comma-separated): the members of the
 * readiness group. `required` (every required dependency), `kpis` (every KPI), a KPI key
 * (`eventLoopDelay`), a check name (`database`, `llm`), `tag:<tag>`. Check names are checked
 * against the configured checks at start (create-health.ts).
 */
export const readinessParser: Parser<ReadinessScope> = (raw) => {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  const reason = 'expected a list of: required, kpis, a KPI key (eventLoopDelay), a check name (database), tag:<tag>';
  if (items === undefined || items.some((x) => typeof x !== 'string')) return { ok: false, reason };
  const members = (items as string[]).map((s) => s.trim()).filter((s) => s !== '');
  let kpis: boolean | KpiKey[] = false;
  let required = false;
  const dependencies: string[] = [];
  const tags: string[] = [];
  for (const m of members) {
    if (m === 'required') required = true;
    else if (m === 'kpis') kpis = true;
    else if ((KPI_KEYS as readonly string[]).includes(m)) {
      if (kpis !== true) kpis = [...(kpis === false ? [] : kpis), m as KpiKey];
    } else if (m.startsWith('tag:') && NAME.test(m.slice(4))) tags.push(m.slice(4));
    else if (NAME.test(m)) dependencies.push(m);
    else return { ok: false, reason: `${reason}; ${JSON.stringify(m)} is none of these` };
  }
  return {
    ok: true,
    value: Object.freeze({
      kpis: Array.isArray(kpis) ? Object.freeze(kpis) : kpis,
      required,
      ...(dependencies.length > 0 ? { dependencies: Object.freeze(dependencies) } : {}),
      ...(tags.length > 0 ? { tags: Object.freeze(tags) } : {}),
    }),
  };
};
