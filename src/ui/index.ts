export { mountStatusPage, UI_PATH, STREAM_PATH, TICKET_PATH, type StatusPage, type StatusPageOptions } from './routes';
export { StatusFeed, type StatusFeedOptions } from './stream';
export { MetricsHistory, type HistoryPoint } from './history';
export { TicketSigner, TICKET_TTL_MS } from './ticket';
export { buildSnapshot, type StatusSnapshot, type CheckView } from './snapshot';
export type { UpstreamView } from './upstream-view';
export { CSP } from './page';
