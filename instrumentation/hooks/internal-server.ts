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

const kRequestState = Symbol.for('chatpulse.http.request');
const kUntracked = Symbol.for('chatpulse.untracked-response');

type Untrackable = { [kRequestState]?: { untracked: boolean }; [kUntracked]?: true };

/**
 * Excludes one response from stream detection: Chatpulse's own event streams (the status page's
 * live feed) are not chatbot streams, even when mounted in the app's server. The hook reads the
 * flag from its per-request state, so its hot path never looks up a missing property on `res`.
 */
export function untrackResponse(res: object): void {
  const r = res as Untrackable;
  r[kUntracked] = true;
  const state = r[kRequestState];
  if (state !== undefined) state.untracked = true;
}

export function isUntracked(res: object): boolean {
  const r = res as Untrackable;
  return r[kUntracked] === true || r[kRequestState]?.untracked === true;
}
