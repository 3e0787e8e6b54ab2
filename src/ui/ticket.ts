import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a ticket lets a browser open the stream or load the page's assets. */
export const TICKET_TTL_MS = 60_000;

const CONTEXT = 'chatpulse status-page ticket v1';

/**
 * Short-lived signed tickets for what a browser cannot send `Authorization` on: the page's
 * `<script>`/`<link>` assets and the `EventSource` stream.
 *
 * A ticket is `<expiry, base 36 ms>.<nonce>.<HMAC-SHA256>`. The HMAC key is derived from the health
 * token, so every replica sharing the token accepts every other's tickets, and rotating the token
 * invalidates them all. Tickets are minted only for a request that passed the bearer check, expire
 * after 60 s (they authorize opening a connection, not keeping it), and are compared in constant
 * time. The token itself never appears in a subresource URL. Without a token (auth off) the key is
 * random and tickets are not needed.
 */
export class TicketSigner {
  private readonly key: Buffer;

  constructor(
    token: string | undefined,
    readonly ttlMs = TICKET_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.key = token === undefined ? randomBytes(32) : createHmac('sha256', token).update(CONTEXT).digest();
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }

  issue(): { ticket: string; expiresAt: string } {
    const exp = this.now() + this.ttlMs;
    const payload = `${exp.toString(36)}.${randomBytes(9).toString('base64url')}`;
    return { ticket: `${payload}.${this.mac(payload).toString('base64url')}`, expiresAt: new Date(exp).toISOString() };
  }

  /** True for an unexpired ticket this key signed. Never throws. */
  verify(ticket: unknown): boolean {
    if (typeof ticket !== 'string' || ticket.length > 200) return false;
    const m = /^([0-9a-z]{1,12})\.([\w-]{12})\.([\w-]{43})$/.exec(ticket);
    if (m === null) return false;
    const exp = parseInt(m[1]!, 36);
    const now = this.now();
    // Expired, or further ahead than any ticket this signer issues: refused before the MAC.
    if (!(exp > now) || exp > now + this.ttlMs + 5_000) return false;
    // Compared as canonical base64url text: a variant encoding of the same bytes is no ticket.
    const given = Buffer.from(m[3]!, 'latin1');
    const expected = Buffer.from(this.mac(`${m[1]}.${m[2]}`).toString('base64url'), 'latin1');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
