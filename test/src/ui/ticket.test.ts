import { describe, expect, it } from 'vitest';
import { TicketSigner } from '../../../src/ui/ticket';

describe('status page tickets', () => {
  it('accepts its own fresh tickets and refuses expired, tampered or foreign ones', () => {
    let now = 1_700_000_000_000;
    const s = new TicketSigner('token-a', 60_000, () => now);
    const { ticket, expiresAt } = s.issue();
    expect(Date.parse(expiresAt)).toBe(now + 60_000);
    expect(s.verify(ticket)).toBe(true);
    expect(s.issue().ticket).not.toBe(ticket); // a nonce: every ticket differs

    const [exp, nonce, mac] = ticket.split('.') as [string, string, string];
    const flip = (x: string) => x.slice(0, -1) + (x.endsWith('A') ? 'B' : 'A');
    const flipFirst = (x: string) => (x.startsWith('A') ? 'B' : 'A') + x.slice(1);
    expect(s.verify(`${exp}.${nonce}.${flipFirst(mac)}`)).toBe(false);
    // The last character's two low bits are padding: a variant spelling of the same MAC is refused too.
    expect(s.verify(`${exp}.${nonce}.${flip(mac)}`)).toBe(false);
    expect(s.verify(`${exp}.${flip(nonce)}.${mac}`)).toBe(false);
    expect(s.verify(`${(parseInt(exp, 36) + 1000).toString(36)}.${nonce}.${mac}`)).toBe(false);
    // A ticket lasting longer than the signer ever issues is refused before its MAC is checked.
    expect(s.verify(`${(now + 3_600_000).toString(36)}.${nonce}.${mac}`)).toBe(false);

    expect(new TicketSigner('token-b', 60_000, () => now).verify(ticket)).toBe(false);
    // Replicas sharing the token accept each other's tickets.
    expect(new TicketSigner('token-a', 60_000, () => now).verify(ticket)).toBe(true);

    now += 59_999;
    expect(s.verify(ticket)).toBe(true);
    now += 1;
    expect(s.verify(ticket)).toBe(false);
  });

  it('never throws on junk', () => {
    const s = new TicketSigner('t');
    for (const junk of [undefined, null, 42, ['a'], { a: 1 }, '', '...', 'x'.repeat(10_000), 'zz.zz.zz']) expect(s.verify(junk)).toBe(false);
  });

  it('without a token, tickets are signed with a random key no other process shares', () => {
    const a = new TicketSigner(undefined);
    expect(a.verify(a.issue().ticket)).toBe(true);
    expect(new TicketSigner(undefined).verify(a.issue().ticket)).toBe(false);
  });
});
