import type { InstanceSummary } from '../../grading/instances';
import { changed } from './changed';
import { badge, byId, el, emptyBody } from './dom';
import { fmtMs, fmtPct } from './format';
import { word } from './words';

/** Fleet mode: every instance graded on its own, worst first. In-process (null) the card stays hidden. */
export function renderInstances(list: readonly InstanceSummary[] | null, windowSeconds: number): void {
  if (!changed('instances', list)) return;
  byId('instances-card').hidden = list === null;
  if (list === null) return;
  const counts = new Map<string, number>();
  for (const i of list) counts.set(i.status, (counts.get(i.status) ?? 0) + 1);
  const summary = ['unhealthy', 'missing', 'degraded', 'healthy']
    .filter((k) => counts.get(k))
    .map((k) => `${counts.get(k)} ${word(k).toLowerCase()}`)
    .join(', ');
  byId('instances-hint').textContent =
    `${list.length}${list.length === 1 ? ' instance' : ' instances'}${summary ? ` (${summary})` : ''}` +
    `, each graded on its own over the ${windowSeconds} s window with the same thresholds, worst first.`;
  const tb = emptyBody(byId<HTMLTableElement>('instances'));
  for (const i of list) {
    const note = i.status === 'missing' ? 'reported within the window, nothing now' : i.issues.length ? i.issues.join('; ') : null;
    tb.appendChild(
      el('tr', { 'data-instance': i.id, 'data-status-value': i.status }, [
        el('th', { scope: 'row' }, [i.id, note ? el('span', { className: 'note', text: note }) : null]),
        el('td', null, badge(i.status)),
        el('td', { className: 'num', text: fmtMs(i.firstTokenP95Ms) }),
        el('td', { className: 'num', text: String(i.streams) }),
        el('td', { className: 'num', text: fmtPct(i.errorRate) }),
      ]),
    );
  }
}
