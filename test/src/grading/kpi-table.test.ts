/**
 * The KPI table is the one source of the KPI thresholds: the README's KPI table documents it
 * exactly, the grading definitions take their label, unit and direction from it, and the health
 * service's defaults are its thresholds. (Dashboards and Prometheus rules: test/ops.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveHealthConfig } from '../../../src/config/health-config';
import { DEFAULT_THRESHOLDS, KPI_TABLE, type KpiKey } from '../../../src/grading/kpi-table';
import { KPIS } from '../../../src/grading/kpis';
import { GENAI_LATENCY_BUCKETS_SECONDS, KPI_THRESHOLDS_SECONDS, LATENCY_BUCKETS_SECONDS } from '../../../instrumentation/metrics/catalog';

const README = path.resolve(__dirname, '..', '..', '..', 'README.md');

interface Bound {
  readonly op: string;
  readonly value: number;
}

/** `≤ 0.5 s`, `> 2 %`, `< 100`, `> 500 ms` → operator and value in base units. */
function bound(cell: string): Bound {
  const m = /^([≤≥<>])\s*([0-9.]+)\s*(ms|s|%)?$/.exec(cell.trim());
  if (m === null) throw new Error(`README KPI table: cannot read "${cell}"`);
  const n = Number(m[2]);
  const value = m[3] === 'ms' ? n / 1000 : m[3] === '%' ? n / 100 : n;
  return { op: m[1]!, value: Number(value.toPrecision(12)) };
}

function readmeKpis(): Map<KpiKey, { target: Bound; warn: Bound; fail: Bound }> {
  const text = fs.readFileSync(README, 'utf8');
  const start = text.indexOf('| KPI | key | healthy | warn | fail |');
  expect(start, 'README has the KPI table').toBeGreaterThan(-1);
  const rows = text.slice(start).split('\n').slice(2);
  const out = new Map<KpiKey, { target: Bound; warn: Bound; fail: Bound }>();
  for (const line of rows) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const key = /^`(\w+)`$/.exec(cells[1]!)?.[1] as KpiKey;
    out.set(key, { target: bound(cells[2]!), warn: bound(cells[3]!), fail: bound(cells[4]!) });
  }
  return out;
}

describe('the KPI table', () => {
  it('is what the README documents, row for row', () => {
    const readme = readmeKpis();
    expect([...readme.keys()]).toEqual(KPI_TABLE.map((r) => r.key));
    for (const r of KPI_TABLE) {
      const d = readme.get(r.key)!;
      const [ok, bad] = r.direction === 'above' ? ['≤', '>'] : ['≥', '<'];
      expect(d.target, `${r.key} target`).toEqual({ op: ok, value: r.target });
      expect(d.warn, `${r.key} warn`).toEqual({ op: bad, value: r.warn });
      expect(d.fail, `${r.key} fail`).toEqual({ op: bad, value: r.fail });
    }
  });

  it('orders each row target, warn, fail in its bad direction', () => {
    for (const r of KPI_TABLE) {
      if (r.direction === 'above') expect(r.target <= r.warn && r.warn <= r.fail, r.key).toBe(true);
      else expect(r.target >= r.warn && r.warn >= r.fail, r.key).toBe(true);
      if (r.unit === 'ratio') expect(r.target <= 1 && r.fail >= 0, r.key).toBe(true);
    }
  });

  it('gives the grading definitions their label, unit and direction, in its order', () => {
    expect(KPIS.map((k) => k.key)).toEqual(KPI_TABLE.map((r) => r.key));
    for (const [i, r] of KPI_TABLE.entries()) {
      expect({ label: KPIS[i]!.label, unit: KPIS[i]!.unit, direction: KPIS[i]!.direction }).toEqual({ label: r.label, unit: r.unit, direction: r.direction });
    }
  });

  it("is the health service's default thresholds", () => {
    const c = resolveHealthConfig({}, {});
    for (const r of KPI_TABLE) {
      expect(DEFAULT_THRESHOLDS[r.key]).toEqual({ target: r.target, warn: r.warn, fail: r.fail });
      expect(c.thresholds[r.key]).toEqual({ target: r.target, warn: r.warn, fail: r.fail });
    }
  });

  it("latency thresholds are exact edges of the instrumentation's histogram buckets", () => {
    for (const r of KPI_TABLE.filter((x) => x.unit === 's' && x.alerted && x.perModel !== true)) {
      for (const v of [r.target, r.warn, r.fail]) {
        expect(KPI_THRESHOLDS_SECONDS, `${r.key} ${v}`).toContain(v);
        expect(LATENCY_BUCKETS_SECONDS, `${r.key} ${v}`).toContain(v);
      }
    }
  });

  it('per-model latency thresholds are exact edges of the GenAI client histogram buckets', () => {
    const rows = KPI_TABLE.filter((x) => x.unit === 's' && x.perModel === true);
    expect(rows.map((r) => r.key)).toEqual(['upstreamTimeToFirstChunk']);
    for (const r of rows) for (const v of [r.target, r.warn, r.fail]) expect(GENAI_LATENCY_BUCKETS_SECONDS, `${r.key} ${v}`).toContain(v);
  });
});
