import type { StatsResult } from './core';
import type { AlertStore } from './store';

export interface StatisticsOptions {
  readonly store: AlertStore;
  /** Width of the stored error-count buckets: the smallest interval. */
  readonly bucketMs: number;
  /** Saves the counts recorded since the last evaluation, so they are included. */
  readonly flushCounts: () => Promise<void>;
  /** Whether webhooks are configured (notification counts are null otherwise). */
  readonly notifications: boolean;
  readonly now: () => number;
}

/** Alert counts and the error trend over [sinceMs, now] in `intervalMs` steps, from the store. */
export async function alertStatistics(o: StatisticsOptions, sinceMs: number, intervalMs: number): Promise<StatsResult> {
  await o.flushCounts().catch(() => undefined);
  const [alerts, rows, notifications] = await Promise.all([
    o.store.alertCounts(sinceMs),
    o.store.errorCounts(sinceMs - (sinceMs % o.bucketMs)),
    o.notifications ? o.store.notificationCounts() : Promise.resolve(null),
  ]);
  const byCategory: Record<string, number> = {};
  const byLevel: Record<string, number> = { warning: 0, error: 0, critical: 0 };
  const bySource: Record<string, number> = {};
  const now = o.now();
  const start0 = sinceMs - (sinceMs % intervalMs);
  const points = Math.ceil((now - start0) / intervalMs);
  const trend = Array.from({ length: Math.max(points, 1) }, (_, i) => ({
    start: new Date(start0 + i * intervalMs).toISOString(),
    total: 0,
    byLevel: { warning: 0, error: 0, critical: 0 } as Record<string, number>,
    byCategory: {} as Record<string, number>,
  }));
  let total = 0;
  for (const r of rows) {
    if (r.bucket + o.bucketMs <= sinceMs) continue;
    total += r.count;
    byCategory[r.category] = (byCategory[r.category] ?? 0) + r.count;
    byLevel[r.level] = (byLevel[r.level] ?? 0) + r.count;
    bySource[r.source] = (bySource[r.source] ?? 0) + r.count;
    const i = Math.min(trend.length - 1, Math.max(0, Math.floor((r.bucket - start0) / intervalMs)));
    const p = trend[i]!;
    p.total += r.count;
    p.byLevel[r.level] = (p.byLevel[r.level] ?? 0) + r.count;
    p.byCategory[r.category] = (p.byCategory[r.category] ?? 0) + r.count;
  }
  return { alerts, errors: { total, byCategory, byLevel, bySource, trend }, notifications };
}
