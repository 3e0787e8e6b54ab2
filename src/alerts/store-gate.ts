import { settleWithin } from '../../common/timeout';
import { StoreUnavailableError } from './store';

/**
 * Bounds what the alerts API waits for the store. A call that does not settle within `timeoutMs`
 * is answered as unavailable (it goes on in the background: a write carries an idempotency key,
 * so its spooled replay cannot apply it twice). After a failure the gate stays shut for
 * `coolDownMs`, so requests answer at once from memory instead of queueing behind a hung pool;
 * then one call is let through to find out whether the store is back.
 */
export class StoreGate {
  private shutUntil = 0;
  private reason = '';

  constructor(
    private readonly kind: string,
    readonly timeoutMs: number,
    private readonly coolDownMs: number = Math.max(1000, 2 * timeoutMs),
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the store failed recently (the API should not wait on it). */
  get shut(): boolean {
    return this.now() < this.shutUntil;
  }

  /** Why it is shut (the last failure). */
  get lastFailure(): string {
    return this.reason;
  }

  /** The store failed elsewhere (evaluation, spool replay). */
  failed(reason: string): void {
    this.reason = reason;
    this.shutUntil = this.now() + this.coolDownMs;
  }

  /** The store answered elsewhere. */
  answered(): void {
    this.shutUntil = 0;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.shut) throw new StoreUnavailableError(`alert store (${this.kind}) unavailable: ${this.reason}`);
    const p = work();
    // Observed here so a late rejection of an abandoned call is never unhandled.
    p.catch(() => undefined);
    if (!(await settleWithin(p, this.timeoutMs))) {
      this.failed(`no answer within ${this.timeoutMs} ms`);
      throw new StoreUnavailableError(`alert store (${this.kind}) unavailable: no answer within ${this.timeoutMs} ms`);
    }
    try {
      const v = await p;
      this.answered();
      return v;
    } catch (err) {
      if (err instanceof StoreUnavailableError) this.failed(err.message.replace(/^alert store \([a-z]+\) unavailable: /, ''));
      else this.answered();
      throw err;
    }
  }
}
