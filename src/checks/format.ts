/** Human-readable values for `display` and `threshold`, in the style of the endpoints' check objects (`450ms`, `≤5%`). */

export function ms(value: number): string {
  return `${value < 10 ? Math.round(value * 10) / 10 : Math.round(value)}ms`;
}

export function percent(ratio: number): string {
  const p = ratio * 100;
  return `${p < 10 ? Math.round(p * 10) / 10 : Math.round(p)}%`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n: number): string {
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${UNITS[i]}`;
}

/** Milliseconds rounded for JSON details: sub-ms precision is noise at health-check scale. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
