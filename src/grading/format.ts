import type { KpiUnit } from './kpis';

/** Formats a value the way the endpoints' checks show it: `450ms`, `2.1s`, `0.5%`, `12`. */
export function formatValue(value: number, unit: KpiUnit): string {
  switch (unit) {
    case 's':
      return value < 10 ? `${Math.round(value * 1000)}ms` : `${round(value, 1)}s`;
    case 'ratio':
      return `${round(value * 100, 2)}%`;
    case 'count':
      return String(Math.round(value));
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
