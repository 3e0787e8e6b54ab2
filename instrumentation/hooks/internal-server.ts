import type { Server } from 'node:http';
import { responseStates } from './response-states';

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

type Untrackable = { [kUntracked]?: true };

/**
 * Excludes one response from stream detection: Chatpulse's own event streams (the status page's
 * live feed) are not chatbot streams, even when mounted in the app's server. The hook reads the
 * flag from its per-request state, so its hot path never looks up a missing property on `res`.
 */
export function untrackResponse(res: object): void {
  (res as Untrackable)[kUntracked] = true;
  const state = responseStates.get(res);
  if (state !== undefined) state.untracked = true;
}

export function isUntracked(res: object): boolean {
  return (res as Untrackable)[kUntracked] === true || responseStates.get(res)?.untracked === true;
}
