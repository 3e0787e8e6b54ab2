import type { ClientRequest } from 'node:http';

/**
 * The HTTP requests of one snapshot, ended together on the first failure, the timeout or close().
 *
 * Why not an AbortSignal: node:http adds an `abort` listener to the signal of every request it is
 * given, so one signal shared by a snapshot's ~25 parallel queries crossed EventTarget's limit of
 * 10 and printed a MaxListenersExceededWarning at every evaluation. Here the group holds the
 * requests themselves (each leaves the set when it closes) and nothing subscribes to anything.
 */
export class RequestGroup {
  private readonly requests = new Set<ClientRequest>();
  private why: Error | undefined;

  /** Why the group was aborted; undefined while it runs. */
  get reason(): Error | undefined {
    return this.why;
  }

  get size(): number {
    return this.requests.size;
  }

  /** Tracks a request until it closes; a request added after abort() is destroyed at once. */
  add(req: ClientRequest): void {
    if (this.why !== undefined) {
      req.destroy(this.why);
      return;
    }
    this.requests.add(req);
    req.once('close', () => this.requests.delete(req));
  }

  /** Destroys every request still open with `reason`; later calls keep the first reason. */
  abort(reason: Error): void {
    if (this.why !== undefined) return;
    this.why = reason;
    const open = [...this.requests];
    this.requests.clear();
    for (const req of open) req.destroy(reason);
  }
}
