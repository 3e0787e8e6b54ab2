/** The dashboard and streaming-metrics view builders, without a server. */
import { describe, expect, it } from 'vitest';
import { dashboardSummaryView, dashboardView } from '../../../../src/http/views/dashboard';
import { breakdownView, streamingHealthView, streamingMetricsView, streamingSummaryView } from '../../../../src/http/views/streaming';
import { dep, report } from './fixtures';

const traffic = {
  streams: { completed: 95, failed: 5, aborted: 2 },
  requests: { total: 200, serverErrors: 4 },
  caches: { kb: { hits: 3, misses: 1 } },
  errors: { llm: 3, tts: 1 },
  activeStreams: 7,
};

describe('dashboard views', () => {
  it('counts sections by status and alerts by severity', () => {
    const r = report(traffic, [dep('database', 'database', 'fail', true)]);
    const v = dashboardView(r, [{ severity: 'critical' }, { severity: 'warning' }, { severity: 'warning' }]);
    expect(v.overview).toMatchObject({ systemStatus: 'unhealthy', activeAlerts: 3, activeStreams: 7 });
    expect((v.overview as { services: { unhealthy: number } }).services.unhealthy).toBe(1);
    expect((v.monitoring as { summary: unknown }).summary).toEqual({ total: 3, critical: 1, warning: 2 });
  });

  it('summary: uptime as text, success rate of finished streams', () => {
    expect(dashboardSummaryView(report(traffic), 2)).toMatchObject({ uptime: '1d 2h 3m', activeStreams: 7, successRate: '95%', activeAlerts: 2, issues: 0 });
  });
});

describe('streaming views', () => {
  it('health: a dependency shows as connected or disconnected', () => {
    const v = streamingHealthView(report({}, [dep('database', 'database', 'fail', true)]));
    expect((v.checks as Record<string, unknown>).database).toEqual({ status: 'fail', value: 'disconnected', message: 'database is down' });
    expect(v.success).toBe(true);
  });

  it('metrics: requests, caches and the error breakdown in percent', () => {
    const m = streamingMetricsView(report(traffic)).metrics as Record<string, Record<string, unknown>>;
    expect(m.requests).toMatchObject({ total: 200, successful: 196, failed: 4, active: 7, successRate: '98%' });
    expect(m.cache).toEqual({ kb: { hits: 3, misses: 1, hitRate: '75%' } });
    expect(m.errors).toEqual({ llm: 3, tts: 1, breakdown: { llm: '75%', tts: '25%' } });
    expect(m.streaming).toEqual({ totalStreams: 102, activeCount: 7, completedCount: 95, errorCount: 5, abortedCount: 2 });
  });

  it('summary: a cache never looked up is null', () => {
    const s = streamingSummaryView(report(traffic)).summary as Record<string, unknown>;
    expect(s.cacheHitRate).toEqual({ kb: '75%', tts: null });
    expect(s.errorCount).toBe(4);
  });
});

describe('first-token breakdown view', () => {
  it('per route: the phases in ms, their sum, the model share; empty without one', () => {
    expect(breakdownView(undefined)).toEqual({});
    expect(breakdownView({ '/chat': { streams: 4, appBeforeModel: 0.1, model: 0.2, appAfterModel: 0.05 } })).toEqual({
      '/chat': { streams: 4, appBeforeModelMs: 100, modelMs: 200, appAfterModelMs: 50, firstTokenMs: 350, modelShare: '57.14%' },
    });
  });
});
