/**
 * What the page was rendered with (page.ts puts it in <meta> tags: the CSP allows no inline
 * script) and the token it was opened with.
 */
function meta(name: string): string {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

/** Where the health endpoints are mounted (empty, or e.g. `/ops`). */
export const base = meta('chatpulse-base');

/** The short-lived ticket for the first stream connection. */
export const firstTicket = meta('chatpulse-ticket');

// The token the page was opened with (?token=), for the alerts API and fresh stream tickets.
// Kept in memory only; with a proxy that adds Authorization there is none and none is needed.
const token = new URLSearchParams(window.location.search).get('token');

export function authHeaders(json: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (token) h.Authorization = `Bearer ${token}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}
