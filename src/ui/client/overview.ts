import type { StatusSnapshot } from '../snapshot';
import { changed } from './changed';
import { byId, clear, el } from './dom';
import { fmtRate, fmtUptime } from './format';
import { STATUS_ICON, word } from './words';

let lastStatus: string | null = null;

/** The overall badge (announced by its live region only when it changes), the facts, the issues. */
export function renderOverview(s: StatusSnapshot): void {
  const o = byId('overall');
  if (s.status !== lastStatus) {
    lastStatus = s.status;
    o.setAttribute('data-status', s.status);
    o.querySelector('.icon')!.textContent = STATUS_ICON[s.status] ?? '?';
    o.querySelector('.word')!.textContent = word(s.status) + (s.shuttingDown ? ' (shutting down)' : '');
    document.title = `${word(s.status)} \u00b7 ${s.service} status`;
  }
  byId('fact-active').textContent = String(s.streams.active);
  byId('fact-rate').textContent = fmtRate(s.streams.perSecond);
  byId('fact-alerts').textContent = s.alerts.available ? String(s.alerts.active.length) : '\u2013';
  byId('fact-uptime').textContent = fmtUptime(s.uptimeSeconds);
  if (changed('issues', s.issues)) {
    const ul = byId('issues');
    clear(ul);
    for (const i of s.issues) ul.appendChild(el('li', { text: i }));
    byId('issues-box').hidden = s.issues.length === 0;
  }
}
