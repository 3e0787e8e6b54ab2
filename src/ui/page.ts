/** The status page's Content-Security-Policy: same-origin scripts and styles only, nothing inline. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of the page (and its assets): strict CSP, no referrer (the URL may carry the token), no caching. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CSP,
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
});

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export interface PageOptions {
  /** Where the health endpoints are mounted (the router's base URL, usually empty). */
  readonly base: string;
  /** A short-lived ticket for the assets and the first stream connection. */
  readonly ticket: string;
  readonly serviceName: string;
  readonly version: string;
}

/**
 * The page's HTML: landmarks, headings, empty tables and live regions that app.js fills from the
 * stream. No inline script or style (the CSP forbids them); configuration is in <meta> tags.
 */
export function renderPage(o: PageOptions): string {
  const e = escapeHtml;
  const q = `?ticket=${encodeURIComponent(o.ticket)}`;
  const ui = `${o.base}/api/v1/health/ui`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<meta name="chatpulse-base" content="${e(o.base)}">
<meta name="chatpulse-ticket" content="${e(o.ticket)}">
<title>${e(o.serviceName)} status · Chatpulse</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${e(ui)}/app.css${e(q)}">
<script src="${e(ui)}/app.js${e(q)}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <div class="title">
    <h1>${e(o.serviceName)} <span class="sub">status</span></h1>
    <p class="meta">Chatpulse ${e(o.version)} · <span id="updated">waiting for data</span></p>
  </div>
  <p id="conn" class="conn" data-state="connecting" role="status"><span class="dot" aria-hidden="true"></span> <span id="conn-text">Connecting…</span></p>
</header>
<main id="main" tabindex="-1">
  <section class="overall card" aria-labelledby="overall-h">
    <h2 id="overall-h">Overall status</h2>
    <p id="overall" class="badge big" data-status="unknown" aria-live="polite" aria-atomic="true"><span class="icon" aria-hidden="true">…</span> <span class="word">Connecting</span></p>
    <dl class="facts">
      <div><dt>Active streams</dt><dd id="fact-active">–</dd></div>
      <div><dt>Streams/s</dt><dd id="fact-rate">–</dd></div>
      <div><dt>Active alerts</dt><dd id="fact-alerts">–</dd></div>
      <div><dt>Uptime</dt><dd id="fact-uptime">–</dd></div>
    </dl>
    <div id="issues-box" hidden>
      <h3>Issues</h3>
      <ul id="issues"></ul>
    </div>
  </section>

  <section id="instances-card" class="card wide" aria-labelledby="instances-h" hidden>
    <h2 id="instances-h">Instances</h2>
    <p class="hint" id="instances-hint">Each instance graded on its own with the same thresholds, worst first.</p>
    <div class="scroll" role="region" aria-labelledby="instances-h" tabindex="0">
      <table id="instances">
        <thead><tr><th scope="col">Instance</th><th scope="col">Status</th><th scope="col">First token p95</th><th scope="col">Streams</th><th scope="col">Error rate</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card" aria-labelledby="alerts-h">
    <h2 id="alerts-h" tabindex="-1">Alerts</h2>
    <p id="alert-msg" class="msg" role="status"></p>
    <p id="alerts-off" hidden>Alerting is not enabled in this service.</p>
    <h3 id="firing-h">Firing</h3>
    <p id="firing-empty" class="empty">No firing alerts.</p>
    <div class="scroll" role="region" aria-labelledby="firing-h" tabindex="0">
      <table id="alerts-firing" class="alerts">
        <thead><tr><th scope="col">Alert</th><th scope="col">Fired</th><th scope="col">Actions</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <h3 id="acked-h">Acknowledged</h3>
    <p id="acked-empty" class="empty">No acknowledged alerts.</p>
    <div class="scroll" role="region" aria-labelledby="acked-h" tabindex="0">
      <table id="alerts-acknowledged" class="alerts">
        <thead><tr><th scope="col">Alert</th><th scope="col">Acknowledged</th><th scope="col">Actions</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <h3 id="resolved-h">Recently resolved</h3>
    <p id="resolved-empty" class="empty">None since the service started.</p>
    <div class="scroll" role="region" aria-labelledby="resolved-h" tabindex="0">
      <table id="alerts-resolved" class="alerts">
        <thead><tr><th scope="col">Alert</th><th scope="col">Resolved</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card" aria-labelledby="checks-h">
    <h2 id="checks-h">Checks</h2>
    <p class="hint">Each KPI over the sliding window and each dependency, with its value and threshold.</p>
    <div class="scroll" role="region" aria-labelledby="checks-h" tabindex="0">
      <table id="checks">
        <thead><tr><th scope="col">Check</th><th scope="col">Status</th><th scope="col">Value</th><th scope="col" class="thr">Threshold</th></tr></thead>
      </table>
    </div>
  </section>

  <section id="upstream-card" class="card wide" aria-labelledby="upstream-h" hidden>
    <h2 id="upstream-h">Model calls</h2>
    <p class="hint" id="upstream-hint">The model calls the app made over the sliding window, by provider and model, graded like the model checks.</p>
    <div class="scroll" role="region" aria-labelledby="upstream-h" tabindex="0">
      <table id="upstream">
        <thead><tr><th scope="col">Provider · model</th><th scope="col">Status</th><th scope="col">Calls</th><th scope="col">Errors</th><th scope="col">Error rate</th><th scope="col">First chunk p50</th><th scope="col">First chunk p95</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card" aria-labelledby="latency-h">
    <h2 id="latency-h">Latency and stream rate</h2>
    <p class="hint" id="latency-hint">p50, p95 and p99 over the sliding window, at each evaluation.</p>
    <ul class="legend" aria-label="Chart legend">
      <li><svg class="key" viewBox="0 0 30 10" aria-hidden="true"><line class="s-p50" x1="0" y1="5" x2="30" y2="5"/></svg> p50 (solid)</li>
      <li><svg class="key" viewBox="0 0 30 10" aria-hidden="true"><line class="s-p95" x1="0" y1="5" x2="30" y2="5"/></svg> p95 (dashed)</li>
      <li><svg class="key" viewBox="0 0 30 10" aria-hidden="true"><line class="s-p99" x1="0" y1="5" x2="30" y2="5"/></svg> p99 (dotted)</li>
      <li><svg class="key" viewBox="0 0 30 10" aria-hidden="true"><line class="s-warn" x1="0" y1="5" x2="30" y2="5"/></svg> warn threshold</li>
    </ul>
    <div class="charts">
      <figure id="chart-firstToken" class="chart"><figcaption>Time to first token</figcaption><div class="plot"></div><p class="now"></p></figure>
      <figure id="chart-firstAudio" class="chart"><figcaption>Time to first audio</figcaption><div class="plot"></div><p class="now"></p></figure>
      <figure id="chart-complete" class="chart"><figcaption>Complete response</figcaption><div class="plot"></div><p class="now"></p></figure>
      <figure id="chart-streamRate" class="chart"><figcaption>Stream rate (finished streams per second)</figcaption><div class="plot"></div><p class="now"></p></figure>
    </div>
  </section>

  <section class="card" aria-labelledby="caches-h">
    <h2 id="caches-h">Cache hit rates</h2>
    <p id="caches-empty" class="empty">No cache lookups in the window.</p>
    <div class="scroll" role="region" aria-labelledby="caches-h" tabindex="0">
      <table id="caches">
        <thead><tr><th scope="col">Cache</th><th scope="col">Hit rate</th><th scope="col">Hits</th><th scope="col">Misses</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card wide" aria-labelledby="events-h">
    <h2 id="events-h">Recent stream events</h2>
    <p id="events-empty" class="empty">No stream events yet.</p>
    <div class="scroll" role="region" aria-labelledby="events-h" tabindex="0">
      <table id="events">
        <thead><tr><th scope="col">Time</th><th scope="col">Route</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col">After</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
</main>
<noscript><p class="card">This page needs JavaScript for its live updates. The same data is at <code>/api/v1/health/dashboard</code>.</p></noscript>
</body>
</html>
`;
}
