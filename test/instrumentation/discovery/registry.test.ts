/**
 * The registry of servers the app's clients connect to: one entry per server, bounded, replayed
 * to a late follower, and a follower's failure never reaches the app's connect.
 */
import { describe, expect, it } from 'vitest';
import { DependencyRegistry, MAX_DISCOVERED, type Discovered } from '../../../instrumentation/discovery/registry';

const pg = (port: number): Discovered => ({ kind: 'postgres', key: `postgres:db:${port}/app`, connection: { host: 'db', port, database: 'app' } });

describe('DependencyRegistry', () => {
  it('keeps one entry per server, replays them to a late follower and tells it about new ones', () => {
    const r = new DependencyRegistry();
    expect(r.add(pg(5432))).toBe(true);
    expect(r.add(pg(5432))).toBe(false);
    const seen: string[] = [];
    const unfollow = r.follow((d) => seen.push(d.key));
    r.add(pg(5433));
    unfollow();
    r.add(pg(5434));
    expect(seen).toEqual(['postgres:db:5432/app', 'postgres:db:5433/app']);
    expect(r.all()).toHaveLength(3);
  });

  it(`stops at ${MAX_DISCOVERED} servers, and a follower that throws does not stop the add`, () => {
    const r = new DependencyRegistry();
    r.follow(() => {
      throw new Error('follower failure');
    });
    for (let i = 0; i < MAX_DISCOVERED + 5; i++) r.add(pg(10_000 + i));
    expect(r.all()).toHaveLength(MAX_DISCOVERED);
  });
});
