import type { StatusSnapshot } from '../snapshot';
import { byId } from './dom';
import { authHeaders, base, firstTicket } from './page-config';

/**
 * The SSE feed: one whole snapshot per message. The browser's own EventSource retry cannot work
 * here (a reconnect needs a fresh ticket), so it is replaced by a back-off of 1 s, 2 s, 4 s … up
 * to 15 s that fetches a ticket with the page's token and opens a new EventSource.
 */
type ConnState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

const UNAUTHORIZED = 'Not authorized \u2013 open this page with ?token=\u2026';

let onSnapshot: (s: StatusSnapshot) => void = () => undefined;
let ticket = firstTicket;
let es: EventSource | null = null;
let attempt = 0;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

function setConn(state: ConnState, text: string): void {
  byId('conn').setAttribute('data-state', state);
  byId('conn-text').textContent = text;
}

/** Opens the stream; `render` gets every snapshot. */
export function connect(render: (s: StatusSnapshot) => void): void {
  onSnapshot = render;
  open();
  // Back online: no need to wait for the rest of the back-off.
  window.addEventListener('online', () => {
    if (es === null && retryTimer !== null) {
      clearTimeout(retryTimer);
      retryTimer = null;
      void reconnect();
    }
  });
}

function open(): void {
  const url = `${base}/api/v1/health/stream${ticket ? `?ticket=${encodeURIComponent(ticket)}` : ''}`;
  // A ticket opens one stream; the next connection asks for a fresh one.
  ticket = '';
  const source = new EventSource(url);
  es = source;
  source.addEventListener('snapshot', (ev) => {
    attempt = 0;
    let data: StatusSnapshot;
    try {
      data = JSON.parse((ev as MessageEvent<string>).data) as StatusSnapshot;
    } catch {
      return;
    }
    setConn('live', data.shuttingDown ? 'Live \u2013 service shutting down' : 'Live');
    onSnapshot(data);
  });
  source.onerror = () => {
    // Take over from the browser's own retry: a reconnect needs a fresh ticket.
    source.close();
    es = null;
    scheduleReconnect();
  };
}

function scheduleReconnect(stateText?: string): void {
  if (retryTimer !== null) return;
  const delay = Math.min(15000, 1000 * Math.pow(2, attempt));
  attempt++;
  setConn('reconnecting', stateText ?? `Disconnected \u2013 reconnecting in ${Math.round(delay / 1000)} s`);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    void reconnect();
  }, delay);
}

async function reconnect(): Promise<void> {
  setConn('reconnecting', 'Reconnecting\u2026');
  try {
    const r = await fetch(`${base}/api/v1/health/stream/ticket`, { method: 'POST', headers: authHeaders(false), cache: 'no-store', credentials: 'same-origin' });
    if (r.status === 401 || r.status === 403) {
      scheduleReconnect(UNAUTHORIZED);
      setConn('unauthorized', UNAUTHORIZED);
      return;
    }
    if (!r.ok) {
      scheduleReconnect();
      return;
    }
    const j = (await r.json()) as { ticket?: string };
    ticket = j.ticket ?? '';
    open();
  } catch {
    scheduleReconnect();
  }
}
