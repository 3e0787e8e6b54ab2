import { BlockList, isIP } from 'node:net';
import type { Request } from 'express';
import type { Parser } from '../../common/config';

/**
 * Which proxies in front of the health endpoints are trusted to name the client in
 * `X-Forwarded-For`, as Express's `trust proxy`: off (the socket's peer is the client), a hop
 * count (the nearest n proxies), or addresses and subnets (with Express's names loopback,
 * linklocal, uniquelocal). Rate limits count per client address found this way.
 */
export type TrustProxy = { readonly kind: 'off' } | { readonly kind: 'hops'; readonly hops: number } | { readonly kind: 'list'; readonly entries: readonly string[]; readonly list: BlockList };

export const TRUST_NONE: TrustProxy = Object.freeze({ kind: 'off' });

const NAMED: Record<string, readonly string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** `::ffff:10.0.0.1` is the IPv4 address a dual-stack socket reports for an IPv4 peer. */
function plain(addr: string): string {
  const a = addr.trim();
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

function addEntry(list: BlockList, entry: string): string | undefined {
  const [addr, bits, extra] = entry.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || extra !== undefined) return `${JSON.stringify(entry)} is not an IP address or subnet`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(addr!, type);
  else {
    const n = /^\d+$/.test(bits) ? Number(bits) : NaN;
    if (!(n >= 0 && n <= (family === 4 ? 32 : 128))) return `${JSON.stringify(entry)} has an invalid prefix length`;
    list.addSubnet(addr!, n, type);
  }
  return undefined;
}

/** `false`/`off` (default), a hop count, or a comma-separated list of addresses, subnets and names. */
export const trustProxyParser: Parser<TrustProxy> = (raw) => {
  const reason = 'expected false, a number of proxy hops, or a comma-separated list of addresses or subnets (10.0.0.0/8, loopback, uniquelocal)';
  if (raw === false || raw === 0) return { ok: true, value: TRUST_NONE };
  if (typeof raw === 'number') return Number.isInteger(raw) && raw > 0 && raw <= 100 ? { ok: true, value: { kind: 'hops', hops: raw } } : { ok: false, reason };
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
  if (items === undefined || items.some((i) => typeof i !== 'string')) return { ok: false, reason };
  const entries = (items as string[]).map((s) => s.trim()).filter((s) => s !== '');
  if (entries.length === 0 || (entries.length === 1 && ['false', 'off', '0'].includes(entries[0]!.toLowerCase()))) return { ok: true, value: TRUST_NONE };
  if (entries.length === 1 && /^\d+$/.test(entries[0]!)) {
    const hops = Number(entries[0]);
    return hops <= 100 ? { ok: true, value: { kind: 'hops', hops } } : { ok: false, reason };
  }
  // `true` (trust every hop) is refused on purpose: any client could then pick its own bucket.
  const list = new BlockList();
  for (const e of entries) {
    for (const x of NAMED[e.toLowerCase()] ?? [e]) {
      const problem = addEntry(list, x);
      if (problem !== undefined) return { ok: false, reason: `${reason}: ${problem}` };
    }
  }
  return { ok: true, value: Object.freeze({ kind: 'list', entries: Object.freeze(entries), list }) };
};

function trusted(list: BlockList, addr: string): boolean {
  const a = plain(addr);
  const family = isIP(a);
  return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The client's address under `trust`. Off: `req.ip` (the socket's peer; mounted in an app, the
 * app's own `trust proxy` applies). Otherwise `X-Forwarded-For` is walked from the nearest hop
 * while the hop is trusted, as Express does.
 */
export function clientAddress(req: Request, trust: TrustProxy): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trust.kind === 'off') return req.ip ?? peer;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  // The chain nearest first: the peer, then the forwarded addresses right to left.
  const chain = [peer, ...forwarded.reverse()];
  let i = 0;
  if (trust.kind === 'hops') i = Math.min(trust.hops, chain.length - 1);
  else while (i < chain.length - 1 && trusted(trust.list, chain[i]!)) i++;
  return plain(chain[i]!);
}
