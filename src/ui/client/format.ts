/** How numbers and times read on the page; `–` for anything not measured. */
export const DASH = '\u2013';

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  if (v >= 1000) return `${(v / 1000).toFixed(v >= 10000 ? 1 : 2)} s`;
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ms`;
}

export function fmtRate(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** A ratio as a percentage with up to two decimals. */
export function fmtPct(v: number | null | undefined): string {
  if (v === null || v === undefined) return DASH;
  return `${Math.round(v * 10000) / 100}%`;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}

export function fmtSpan(ms: number): string {
  return ms >= 120000 ? `${Math.round(ms / 60000)} min` : `${Math.round(ms / 1000)} s`;
}

export function fmtUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}
