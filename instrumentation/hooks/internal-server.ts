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
