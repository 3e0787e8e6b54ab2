import type { CheckView } from '../snapshot';
import { changed } from './changed';
import { badge, byId, el } from './dom';
import { word } from './words';

const GROUPS = ['streaming', 'cache', 'system', 'dependencies'] as const;
const GROUP_LABEL: Record<(typeof GROUPS)[number], string> = { streaming: 'Streaming KPIs', cache: 'Cache KPIs', system: 'System KPIs', dependencies: 'Dependencies' };

/** Every KPI and dependency check, one tbody per group, with status, value and threshold. */
export function renderChecks(checks: readonly CheckView[]): void {
  if (!changed('checks', checks)) return;
  const table = byId<HTMLTableElement>('checks');
  for (const b of Array.from(table.tBodies)) table.removeChild(b);
  for (const g of GROUPS) {
    const rows = checks.filter((c) => c.group === g || (g === 'dependencies' && c.kind === 'dependency'));
    if (rows.length === 0) continue;
    const tb = el('tbody', { 'data-group': g });
    tb.appendChild(el('tr', null, el('th', { scope: 'rowgroup', colspan: '4', text: GROUP_LABEL[g] })));
    for (const c of rows) tb.appendChild(checkRow(c));
    table.appendChild(tb);
  }
}

function checkRow(c: CheckView): HTMLTableRowElement {
  const st = c.graded ? c.status : 'ungraded';
  const label = c.label + (c.kind === 'dependency' ? (c.required ? ' (required)' : ' (optional)') : '');
  // The message often repeats the label: shown once.
  const msg = c.message !== null && c.message.startsWith(c.label) ? c.message.slice(c.label.length).trim() : c.message;
  const note = msg && (c.status !== 'pass' || !c.graded) ? el('span', { className: 'note', text: msg }) : null;
  return el('tr', { 'data-check': c.name, 'data-status-value': st }, [
    el('th', { scope: 'row' }, [label, note]),
    el('td', null, badge(st, c.graded ? word(c.status) : 'Not graded')),
    el('td', null, [c.value === null ? '\u2013' : c.value, c.threshold === null ? null : el('span', { className: 'note thr-inline', text: `threshold ${c.threshold}` })]),
    el('td', { className: 'thr', text: c.threshold === null ? '\u2013' : c.threshold }),
  ]);
}
