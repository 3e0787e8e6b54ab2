import type { Server } from 'node:http';

const kInternal = Symbol.for('chatpulse.internal-server');

/** Chatpulse's own servers (metrics, health) are not the app's traffic: the HTTP hook skips them. */
export function markInternalServer(server: Server): Server {
  (server as Server & { [kInternal]?: true })[kInternal] = true;
  return server;
}

export function isInternalServer(server: unknown): boolean {
  return server !== null && typeof server === 'object' && (server as { [kInternal]?: true })[kInternal] === true;
}

const kUntracked = Symbol.for('chatpulse.untracked-response');

/**
 * Excludes one response from stream detection: Chatpulse's own event streams (the status page's
 * live feed) are not chatbot streams, even when mounted in the app's server.
 */
export function untrackResponse(res: object): void {
  (res as { [kUntracked]?: true })[kUntracked] = true;
}

export function isUntracked(res: object): boolean {
  return (res as { [kUntracked]?: true })[kUntracked] === true;
}
