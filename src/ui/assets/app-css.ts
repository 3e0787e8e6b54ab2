/**
 * The status page's stylesheet, served as /api/v1/health/ui/app.css (the CSP allows same-origin
 * styles only). Status colours always come with a word and an icon; contrast ≥ 4.5:1 in both
 * colour schemes; focus is always visible; no motion when the user asks for reduced motion.
 */
export const APP_CSS = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #ffffff; --fg: #1c2128; --muted: #57606a; --line: #d0d7de;
  --pass: #1a7f37; --pass-bg: #dafbe1; --warn: #8a5a00; --warn-bg: #fff1c2; --fail: #c0232c; --fail-bg: #ffe1df;
  --unknown: #57606a; --unknown-bg: #eaeef2; --focus: #0969da; --accent: #0969da;
  --p50: #0969da; --p95: #8250df; --p99: #bc4c00; --warnline: #c0232c;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --fg: #e6edf3; --muted: #9da7b3; --line: #30363d;
    --pass: #56d364; --pass-bg: #12361f; --warn: #e3b341; --warn-bg: #3a2c05; --fail: #ff7b72; --fail-bg: #4a1414;
    --unknown: #9da7b3; --unknown-bg: #21262d; --focus: #58a6ff; --accent: #58a6ff;
    --p50: #58a6ff; --p95: #d2a8ff; --p99: #ffa657; --warnline: #ff7b72;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1, h2, h3 { line-height: 1.2; margin: 0 0 .5rem; }
h1 { font-size: 1.4rem; }
h1 .sub { font-weight: 400; color: var(--muted); }
h2 { font-size: 1.15rem; }
h3 { font-size: 1rem; margin-top: 1rem; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); color: var(--fg); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; justify-content: space-between; align-items: center; padding: 1rem clamp(.75rem, 3vw, 2rem); background: var(--card); border-bottom: 1px solid var(--line); }
.meta { margin: 0; color: var(--muted); font-size: .9rem; }
main { display: grid; align-items: start; gap: 1rem; padding: 1rem clamp(.75rem, 3vw, 2rem) 2rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)); max-width: 110rem; margin: 0 auto; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; min-width: 0; }
.overall, .wide { grid-column: 1 / -1; }
.thr-inline { display: none !important; }
#events td:nth-child(2) { overflow-wrap: anywhere; }
.hint, .empty { color: var(--muted); font-size: .9rem; margin: .25rem 0 .5rem; }
.msg { min-height: 1.45em; margin: 0 0 .5rem; }
.msg[data-kind="error"] { color: var(--fail); font-weight: 600; }
.conn { margin: 0; display: inline-flex; align-items: center; gap: .4rem; font-size: .9rem; padding: .2rem .6rem; border-radius: 999px; border: 1px solid var(--line); }
.conn .dot { width: .65rem; height: .65rem; border-radius: 50%; background: var(--unknown); }
.conn[data-state="live"] .dot { background: var(--pass); }
.conn[data-state="reconnecting"] .dot, .conn[data-state="connecting"] .dot { background: var(--warn); }
.conn[data-state="unauthorized"] .dot, .conn[data-state="closed"] .dot { background: var(--fail); }
@media (prefers-reduced-motion: no-preference) {
  .conn[data-state="live"] .dot { animation: pulse 2s ease-in-out infinite; }
  .badge { transition: background-color .3s; }
}
@keyframes pulse { 50% { opacity: .35; } }
.badge { display: inline-flex; align-items: center; gap: .35rem; padding: .1rem .5rem; border-radius: 4px; border: 1px solid currentColor; font-weight: 600; white-space: nowrap; }
.badge .icon { font-size: .95em; }
.badge.big { font-size: 1.6rem; padding: .3rem .9rem; border-width: 2px; margin: .25rem 0 .75rem; }
[data-status="pass"], [data-status="healthy"], [data-status="completed"] { color: var(--pass); background: var(--pass-bg); }
[data-status="warn"], [data-status="degraded"], [data-status="acknowledged"], [data-status="warning"], [data-status="aborted"] { color: var(--warn); background: var(--warn-bg); }
[data-status="fail"], [data-status="unhealthy"], [data-status="firing"], [data-status="critical"], [data-status="failed"] { color: var(--fail); background: var(--fail-bg); }
[data-status="unknown"], [data-status="info"], [data-status="ungraded"], [data-status="resolved"], [data-status="missing"] { color: var(--unknown); background: var(--unknown-bg); }
.facts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0; }
.facts div { min-width: 7rem; }
.facts dt { color: var(--muted); font-size: .85rem; }
.facts dd { margin: 0; font-size: 1.3rem; font-weight: 600; font-variant-numeric: tabular-nums; }
#issues { margin: 0; padding-left: 1.2rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
tbody th[scope="rowgroup"] { background: var(--bg); font-size: .85rem; color: var(--muted); text-transform: capitalize; }
tbody th[scope="row"] { font-weight: 600; }
td .note, th .note { display: block; font-weight: 400; color: var(--muted); font-size: .85rem; overflow-wrap: break-word; }
.note.id { overflow-wrap: anywhere; }
.alerts .sev { font-size: .8rem; margin-bottom: .2rem; }
.alerts .title { display: block; }
[hidden] { display: none !important; }
.actions { display: flex; flex-wrap: wrap; gap: .4rem; }
button { font: inherit; font-size: .9rem; min-height: 2.25rem; padding: .3rem .8rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--card); color: var(--accent); cursor: pointer; }
button:hover { background: var(--accent); color: var(--card); }
button[disabled] { opacity: .6; cursor: progress; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none; padding: 0; margin: 0 0 .5rem; font-size: .85rem; }
.legend li { display: inline-flex; align-items: center; gap: .35rem; }
.key { width: 30px; height: 10px; }
.charts { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 18rem), 1fr)); }
.chart { margin: 0; min-width: 0; }
.chart figcaption { font-weight: 600; font-size: .95rem; }
.plot { width: 100%; }
.plot svg { display: block; max-width: 100%; overflow: visible; }
.chart .now { margin: .25rem 0 0; font-size: .85rem; color: var(--muted); }
.grid { stroke: var(--line); stroke-width: 1; }
.axis { fill: var(--muted); font-size: 11px; }
.s-p50, .s-p95, .s-p99, .s-rate, .s-warn { fill: none; stroke-width: 2; vector-effect: non-scaling-stroke; stroke-linejoin: round; }
.s-p50, .s-rate { stroke: var(--p50); }
.s-p95 { stroke: var(--p95); stroke-dasharray: 6 3; }
.s-p99 { stroke: var(--p99); stroke-dasharray: 2 3; }
.s-warn { stroke: var(--warnline); stroke-width: 1; stroke-dasharray: 8 4; }
.key line { stroke-width: 2; }
meter { width: 6rem; vertical-align: middle; }
code { font-size: .9em; }
@media (max-width: 30rem) {
  body { font-size: 15px; }
  .badge.big { font-size: 1.35rem; }
  th, td { padding: .35rem .3rem; }
  .facts { gap: .5rem 1.25rem; }
  meter { width: 3.5rem; }
  #checks .thr { display: none; }
  .thr-inline { display: block !important; }
}
`;
