import type { HistoryPoint } from '../history';
import type { StatusSnapshot } from '../snapshot';
import { byId, clear, svg, type Child } from './dom';
import { fmtMs, fmtRate, fmtSpan } from './format';

/** The latency and stream-rate charts, drawn as SVG at the plot's own pixel width. */
const H = 150;
const PAD_L = 52;
const PAD_R = 8;
const PAD_T = 8;
const PAD_B = 20;

type Pick = (p: HistoryPoint) => number | null;

interface Series {
  readonly cls: string;
  readonly pick: Pick;
}

interface ChartOptions {
  readonly spanMs: number;
  readonly warn: number | null;
  readonly fmt: (v: number) => string;
  /** The current values in words: under the chart and in its text alternative. */
  readonly summary: string;
  readonly label: string;
}

/** 1, 2 or 5 times a power of ten, at or above v: round axis labels. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  const n = v / p;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
}

/** A path with a gap wherever a point has no value (no samples in the window then). */
function pathFor(points: readonly HistoryPoint[], pick: Pick, x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    const v = pick(p);
    if (v === null || v === undefined) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)} ${y(v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

function drawChart(id: string, points: readonly HistoryPoint[], series: readonly Series[], o: ChartOptions): void {
  const fig = byId(id);
  const plot = fig.querySelector('.plot')!;
  // Drawn at the plot's own pixel width: text and strokes are never stretched.
  const W = Math.max(200, Math.round(plot.clientWidth || 600));
  const span = o.spanMs;
  const now = points.length ? points[points.length - 1]!.t : Date.now();
  const t0 = now - span;
  let max = 0;
  for (const p of points) {
    for (const s of series) {
      const v = s.pick(p);
      if (v !== null && v > max) max = v;
    }
  }
  let yMax = niceMax(max * 1.1);
  // A warn line just above the data is worth the extra headroom.
  if (o.warn && o.warn <= yMax * 1.5 && o.warn > yMax) yMax = niceMax(o.warn * 1.1);
  const x = (t: number) => PAD_L + ((t - t0) / span) * (W - PAD_L - PAD_R);
  const y = (v: number) => PAD_T + (1 - v / yMax) * (H - PAD_T - PAD_B);
  const children: Child[] = [];
  for (const f of [0, 0.5, 1]) {
    const v = yMax * f;
    children.push(svg('line', { class: 'grid', x1: PAD_L, x2: W - PAD_R, y1: y(v), y2: y(v) }));
    children.push(svg('text', { class: 'axis', x: PAD_L - 6, y: y(v) + 4, 'text-anchor': 'end', text: o.fmt(v) }));
  }
  children.push(svg('text', { class: 'axis', x: PAD_L, y: H - 4, text: `\u2212${fmtSpan(span)}` }));
  children.push(svg('text', { class: 'axis', x: W - PAD_R, y: H - 4, 'text-anchor': 'end', text: 'now' }));
  if (o.warn && o.warn <= yMax) children.push(svg('line', { class: 's-warn', x1: PAD_L, x2: W - PAD_R, y1: y(o.warn), y2: y(o.warn) }));
  for (const s of series) {
    const d = pathFor(points, s.pick, x, y);
    if (d) children.push(svg('path', { class: s.cls, d }));
  }
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': o.label }, children);
  clear(plot);
  plot.appendChild(g);
  fig.querySelector('.now')!.textContent = o.summary;
}

const LATENCIES = [
  ['firstToken', 'Time to first token'],
  ['firstAudio', 'Time to first audio'],
  ['complete', 'Complete response'],
] as const;

/** Redrawn at every snapshot (the time axis moves) and on resize. */
export function renderCharts(s: StatusSnapshot): void {
  const pts = s.history.points;
  const spanMs = s.history.capacity * s.history.intervalMs;
  const spanText = fmtSpan(spanMs);
  byId('latency-hint').textContent = `p50, p95 and p99 over the ${s.streams.windowSeconds} s sliding window, at each evaluation, for the last ${spanText}.`;
  for (const [key, title] of LATENCIES) {
    const cur = s.latency[key];
    const lim = s.limits[key];
    const summary =
      cur.count > 0
        ? `Now: p50 ${fmtMs(cur.p50)}, p95 ${fmtMs(cur.p95)}, p99 ${fmtMs(cur.p99)} (${cur.count} samples); warn above ${fmtMs(lim.warn)}.`
        : `No samples in the window; warn above ${fmtMs(lim.warn)}.`;
    drawChart(
      `chart-${key}`,
      pts,
      [
        { cls: 's-p50', pick: (p) => p[key][0] },
        { cls: 's-p95', pick: (p) => p[key][1] },
        { cls: 's-p99', pick: (p) => p[key][2] },
      ],
      { spanMs, warn: lim.warn, fmt: fmtMs, summary, label: `${title} over the last ${spanText}. ${summary}` },
    );
  }
  const st = s.streams;
  const rateSummary = `Now: ${fmtRate(st.perSecond)} streams/s over the window (${st.completed} completed, ${st.failed} failed, ${st.aborted} aborted); ${st.active} active.`;
  drawChart('chart-streamRate', pts, [{ cls: 's-rate', pick: (p) => p.streamRate }], {
    spanMs,
    warn: null,
    fmt: fmtRate,
    summary: rateSummary,
    label: `Stream rate over the last ${spanText}. ${rateSummary}`,
  });
}
