import type { UpstreamView } from '../upstream-view';
import { changed } from './changed';
import { badge, byId, el, emptyBody } from './dom';
import { fmtMs, fmtPct } from './format';
import { word } from './words';

/** "Model calls": each provider and model the app called, graded; hidden until there is one. */
export function renderUpstream(rows: readonly UpstreamView[], windowSeconds: number): void {
  if (!changed('upstream', rows)) return;
  byId('upstream-card').hidden = rows.length === 0;
  if (rows.length === 0) return;
  byId('upstream-hint').textContent = `The model calls the app made over the ${windowSeconds} s sliding window, by provider and model, graded like the model checks.`;
  const tb = emptyBody(byId<HTMLTableElement>('upstream'));
  for (const u of rows) {
    const st = u.graded ? u.status : 'ungraded';
    tb.appendChild(
      el('tr', { 'data-upstream': `${u.provider}/${u.model}`, 'data-status-value': st }, [
        el('th', { scope: 'row' }, [u.provider, ' \u00b7 ', u.model]),
        el('td', null, badge(st, u.graded ? word(u.status) : 'Not graded')),
        el('td', { className: 'num', text: String(u.calls) }),
        el('td', { className: 'num', text: String(u.errors) }),
        el('td', { className: 'num', text: fmtPct(u.errorRate) }),
        el('td', { className: 'num', text: fmtMs(u.firstChunkP50Ms) }),
        el('td', { className: 'num', text: fmtMs(u.firstChunkP95Ms) }),
      ]),
    );
  }
}
