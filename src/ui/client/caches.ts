import type { StatusSnapshot } from '../snapshot';
import { changed } from './changed';
import { byId, el, emptyBody, showTable } from './dom';

/** Each cache's hit rate over the window, as a meter and a percentage. */
export function renderCaches(caches: StatusSnapshot['caches']): void {
  if (!changed('caches', caches)) return;
  const table = byId<HTMLTableElement>('caches');
  const tb = emptyBody(table);
  for (const c of caches) {
    const pct = c.hitRate === null ? '\u2013' : `${Math.round(c.hitRate * 1000) / 10}%`;
    tb.appendChild(
      el('tr', { 'data-cache': c.name }, [
        el('th', { scope: 'row', text: c.name }),
        el('td', null, [c.hitRate === null ? null : el('meter', { min: '0', max: '1', value: String(c.hitRate), 'aria-hidden': 'true' }), ' ', pct]),
        el('td', { text: c.hits }),
        el('td', { text: c.misses }),
      ]),
    );
  }
  showTable(table, caches.length > 0);
  byId('caches-empty').hidden = caches.length > 0;
}
