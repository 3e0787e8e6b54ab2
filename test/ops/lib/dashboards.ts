/** The shipped Grafana dashboards, flattened to panels and queries. */
import * as path from 'node:path';
import { DASHBOARDS, listFiles, readJson } from './repo';

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat?: string;
  readonly datasource?: { type?: string; uid?: string };
}
export interface Threshold {
  readonly color: string;
  readonly value: number | null;
}
export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: Target[];
  readonly panels?: Panel[];
  readonly fieldConfig?: {
    defaults?: { unit?: string; thresholds?: { mode: string; steps: Threshold[] } };
    overrides?: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[];
  };
}
export interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { query: string };
  readonly definition?: string;
  readonly includeAll?: boolean;
  readonly allValue?: string;
}
export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: Panel[];
  readonly templating: { list: Variable[] };
}

export function dashboardFiles(): string[] {
  return listFiles(DASHBOARDS, '.json');
}

export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return dashboardFiles().map((f) => ({ file: path.basename(f), dashboard: readJson<Dashboard>(f) }));
}

/** Every panel, with the panels of collapsed rows. */
export function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of d.panels) {
    out.push(p);
    for (const inner of p.panels ?? []) out.push(inner);
  }
  return out;
}

/** Panels that show data (rows only group them). */
export function queryPanels(d: Dashboard): Panel[] {
  return allPanels(d).filter((p) => p.type !== 'row');
}

export function variableQuery(v: Variable): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
}
