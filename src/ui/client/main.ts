import type { StatusSnapshot } from '../snapshot';
import { renderAlerts } from './alerts';
import { renderCaches } from './caches';
import { renderCharts } from './charts';
import { renderChecks } from './checks';
import { connect } from './connection';
import { byId, showTable } from './dom';
import { renderEvents } from './events';
import { fmtTime } from './format';
import { renderInstances } from './instances';
import { renderOverview } from './overview';
import { renderUpstream } from './upstream';

/**
 * The status page's script (served as /api/v1/health/ui/app.js, bundled by `npm run build`):
 * renders each snapshot of the SSE feed into the page that page.ts rendered.
 */
let last: StatusSnapshot | null = null;

function render(s: StatusSnapshot): void {
  last = s;
  renderOverview(s);
  renderInstances(s.instances, s.streams.windowSeconds);
  renderAlerts(s.alerts);
  renderChecks(s.checks);
  renderUpstream(s.upstream, s.streams.windowSeconds);
  renderCharts(s);
  renderCaches(s.caches);
  renderEvents(s.events);
  byId('updated').textContent = `updated ${fmtTime(s.timestamp)}, evaluated ${fmtTime(s.evaluatedAt)}`;
}

// The charts are drawn at the plot's pixel width: redrawn once a resize settles.
let resizeTimer: ReturnType<typeof setTimeout> | null = null;
window.addEventListener('resize', () => {
  if (resizeTimer !== null) clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    resizeTimer = null;
    if (last !== null) renderCharts(last);
  }, 150);
});

function start(): void {
  for (const id of ['alerts-firing', 'alerts-acknowledged', 'alerts-resolved', 'caches', 'events']) showTable(byId<HTMLTableElement>(id), false);
  connect(render);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
