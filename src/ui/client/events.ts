import type { StreamEvent } from '../../signals/stream-events';
import { changed } from './changed';
import { byId, el, emptyBody, showTable, timeEl } from './dom';
import { fmtMs } from './format';

const EVENT_WORD: Record<StreamEvent['event'], string> = { start: 'started', first_token: 'first token', first_audio: 'first audio', end: 'ended' };

/** The most recent stream events: when, which route, what, how it ended and after how long. */
export function renderEvents(events: readonly StreamEvent[]): void {
  if (!changed('events', events)) return;
  const table = byId<HTMLTableElement>('events');
  const tb = emptyBody(table);
  for (const e of events) {
    tb.appendChild(
      el('tr', null, [
        el('td', null, timeEl(e.time)),
        el('td', { text: e.route }),
        el('td', { text: EVENT_WORD[e.event] ?? e.event }),
        el('td', null, e.outcome ? el('span', { className: 'badge', 'data-status': e.outcome, text: e.outcome }) : '\u2013'),
        el('td', { text: e.seconds === undefined ? '\u2013' : fmtMs(e.seconds * 1000) }),
      ]),
    );
  }
  showTable(table, events.length > 0);
  byId('events-empty').hidden = events.length > 0;
}
