import type { AlertView } from '../alerts-view';
import type { StatusSnapshot } from '../snapshot';
import { changed } from './changed';
import { badge, byId, el, emptyBody, showTable, timeEl } from './dom';
import { authHeaders, base } from './page-config';

type Alerts = StatusSnapshot['alerts'];
type Action = 'acknowledge' | 'resolve';
type Kind = 'firing' | 'acknowledged' | 'resolved';

/** An alert as `POST /api/v1/health/alerts` returns it: the fields a transition changes. */
type AlertUpdate = Pick<AlertView, 'id' | 'status'> & Partial<Pick<AlertView, 'acknowledgedAt' | 'acknowledgedBy' | 'resolvedAt' | 'resolvedBy' | 'resolution' | 'note'>>;
interface ActionAnswer {
  readonly alerts?: readonly AlertUpdate[];
  readonly error?: string;
}

const RESOLVED_SHOWN = 10;

// The alerts last shown: an action's answer is applied to them before the stream confirms it.
let current: Alerts | null = null;
// The alert whose button was pressed: focus follows it when its row moves.
let focusWant: { id: string; action: string } | null = null;

/** Firing, acknowledged and recently resolved alerts, with their action buttons. */
export function renderAlerts(alerts: Alerts): void {
  current = alerts;
  if (!changed('alerts', alerts)) return;
  byId('alerts-off').hidden = alerts.available;
  // Keep keyboard focus on the same alert when its row moves between tables.
  const f = document.activeElement;
  const onAlert = f?.getAttribute('data-alert-id') ?? null;
  const lost = f === null || f === document.body;
  const focusId = onAlert ?? (lost && focusWant ? focusWant.id : null);
  const focusAction = onAlert !== null ? f!.getAttribute('data-action') : lost && focusWant ? focusWant.action : null;
  fillTable('alerts-firing', 'firing-empty', alerts.active.filter((a) => a.status === 'firing'), 'firing');
  fillTable('alerts-acknowledged', 'acked-empty', alerts.active.filter((a) => a.status === 'acknowledged'), 'acknowledged');
  fillTable('alerts-resolved', 'resolved-empty', alerts.resolved, 'resolved');
  if (focusId !== null) {
    restoreFocus(focusId, focusAction);
    focusWant = null;
  }
}

function fillTable(id: string, emptyId: string, list: readonly AlertView[], kind: Kind): void {
  const table = byId<HTMLTableElement>(id);
  const tb = emptyBody(table);
  for (const a of list) tb.appendChild(alertRow(a, kind));
  showTable(table, list.length > 0);
  byId(emptyId).hidden = list.length > 0;
}

function alertRow(a: AlertView, kind: Kind): HTMLTableRowElement {
  // Severity (word + icon), title and rule in one cell: three columns fit a phone.
  const sev = badge(a.severity, a.severity.charAt(0).toUpperCase() + a.severity.slice(1), 'sev');
  const title = el('th', { scope: 'row' }, [sev, el('span', { className: 'title', text: a.title }), el('span', { className: 'note id', text: `${a.category} \u00b7 ${a.ruleId}` })]);
  const cells: HTMLElement[] = [title];
  if (kind === 'firing') cells.push(el('td', null, timeEl(a.firedAt)));
  else if (kind === 'acknowledged') cells.push(el('td', null, [a.acknowledgedAt ? timeEl(a.acknowledgedAt) : 'yes', a.acknowledgedBy ? el('span', { className: 'note', text: `by ${a.acknowledgedBy}` }) : null]));
  else {
    const how = a.resolution === 'auto' ? 'automatically (condition cleared)' : a.resolvedBy ? `by ${a.resolvedBy}` : (a.resolution ?? '');
    cells.push(el('td', null, [timeEl(a.resolvedAt), el('span', { className: 'note', text: how })]));
  }
  if (kind !== 'resolved') {
    const actions = el('div', { className: 'actions' });
    if (kind === 'firing') actions.appendChild(actionButton(a, 'acknowledge', 'Acknowledge'));
    actions.appendChild(actionButton(a, 'resolve', 'Resolve'));
    cells.push(el('td', null, actions));
  }
  return el('tr', { 'data-alert-id': a.id, 'data-alert-status': a.status }, cells);
}

function actionButton(a: AlertView, action: Action, text: string): HTMLButtonElement {
  const b = el('button', { type: 'button', 'data-action': action, 'data-alert-id': a.id, 'aria-label': `${text} alert: ${a.title}`, text });
  b.addEventListener('click', () => void act(a, action, b));
  return b;
}

function restoreFocus(id: string, action: string | null): void {
  const sel = `button[data-alert-id="${CSS.escape(id)}"]`;
  const same = action === null ? null : document.querySelector<HTMLElement>(`${sel}[data-action="${action}"]:not([disabled])`);
  const other = same ?? document.querySelector<HTMLElement>(`${sel}:not([disabled])`);
  if (other) other.focus();
  else byId('alerts-h').focus();
}

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  const m = byId('alert-msg');
  m.setAttribute('data-kind', kind);
  m.textContent = text;
}

async function act(a: AlertView, action: Action, button: HTMLButtonElement): Promise<void> {
  focusWant = { id: a.id, action };
  button.disabled = true;
  say(`${action === 'acknowledge' ? 'Acknowledging' : 'Resolving'} \u201c${a.title}\u201d\u2026`);
  try {
    const r = await fetch(`${base}/api/v1/health/alerts`, {
      method: 'POST',
      headers: authHeaders(true),
      cache: 'no-store',
      credentials: 'same-origin',
      body: JSON.stringify({ action, ids: [a.id], by: 'status page', note: null }),
    });
    const body = (await r.json().catch(() => ({}))) as ActionAnswer;
    if (r.status === 200) {
      say(`${action === 'acknowledge' ? 'Acknowledged' : 'Resolved'}: \u201c${a.title}\u201d.`);
      applyTransition(body.alerts ?? []);
    } else {
      button.disabled = false;
      const why = r.status === 401 ? 'not authorized (open this page with ?token=\u2026)' : (body.error ?? `HTTP ${r.status}`);
      say(`Could not ${action} \u201c${a.title}\u201d: ${why}`, 'error');
    }
  } catch (e) {
    button.disabled = false;
    say(`Could not ${action} \u201c${a.title}\u201d: ${e instanceof Error && e.message ? e.message : 'network error'}`, 'error');
  }
}

/** Shows the API's answer at once; the stream's next snapshot confirms it. */
function applyTransition(updated: readonly AlertUpdate[]): void {
  if (current === null) return;
  const updates = new Map(updated.map((u) => [u.id, u]));
  const active: AlertView[] = [];
  const resolved = current.resolved.slice();
  for (const a of current.active) {
    const u = updates.get(a.id);
    if (u === undefined) {
      active.push(a);
      continue;
    }
    const v: AlertView = {
      ...a,
      status: u.status,
      acknowledgedAt: u.acknowledgedAt ?? null,
      acknowledgedBy: u.acknowledgedBy ?? null,
      resolvedAt: u.resolvedAt ?? null,
      resolvedBy: u.resolvedBy ?? null,
      resolution: u.resolution ?? null,
      note: u.note ?? null,
    };
    if (u.status === 'resolved') resolved.unshift(v);
    else active.push(v);
  }
  renderAlerts({ available: current.available, active, resolved: resolved.slice(0, RESOLVED_SHOWN) });
  byId('fact-alerts').textContent = String(active.length);
}
