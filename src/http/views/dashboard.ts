import type { CheckResult } from '../../checks/types';
import type { DependencyResult, HealthReport } from '../../service/health-service';
import { checkObject, formatUptime, latencyMs, percent, statusOfChecks } from '../formats';
import { depsOf } from './health';

/** Pure view builders of the dashboard resource (see views/health.ts). */

export interface AlertSummary {
  readonly severity: string;
}

/** `/api/v1/health/dashboard`: overview, sections, performance, usage and the active alerts. */
export function dashboardView(r: HealthReport, alerts: readonly AlertSummary[]): Record<string, unknown> {
  const sections = ['streaming', 'cache', 'system', 'database', 'redis', 'integrations']
    .map((comp) => {
      const cs: CheckResult[] = [...r.kpis.filter((k) => k.component === comp), ...depsOf(r, comp)];
      return [comp, cs] as const;
    })
    .filter(([, cs]) => cs.length > 0);
  const statuses = sections.map(([, cs]) => statusOfChecks(cs, (c) => (c as DependencyResult).required ?? true));
  const s = r.snapshot;
  return {
    dashboard: 'chatpulse',
    status: r.status,
    timestamp: r.timestamp,
    overview: {
      systemStatus: r.status,
      uptime: r.uptimeSeconds,
      activeAlerts: alerts.length,
      activeStreams: s.activeStreams,
      services: {
        total: sections.length,
        healthy: statuses.filter((x) => x === 'healthy').length,
        degraded: statuses.filter((x) => x === 'degraded').length,
        unhealthy: statuses.filter((x) => x === 'unhealthy').length,
      },
    },
    services: Object.fromEntries(sections.map(([comp, cs], i) => [comp, { status: statuses[i], checks: Object.fromEntries(cs.map((c) => [c.name, checkObject(c)])) }])),
    performance: {
      windowSeconds: s.windowSeconds,
      firstTokenMs: latencyMs(s.timeToFirstToken),
      firstAudioMs: latencyMs(s.timeToFirstAudio),
      completeMs: latencyMs(s.completeResponse),
    },
    usage: { requests: s.requests, streams: s.streams, caches: s.caches, errors: s.errors },
    monitoring: {
      alerts,
      summary: { total: alerts.length, critical: alerts.filter((a) => a.severity === 'critical').length, warning: alerts.filter((a) => a.severity === 'warning').length },
    },
  };
}

/** `/api/v1/health/dashboard/summary` (and `/dashboard/summary`): the one-screen summary. */
export function dashboardSummaryView(r: HealthReport, activeAlerts: number): Record<string, unknown> {
  const s = r.snapshot;
  return {
    status: r.status,
    timestamp: r.timestamp,
    uptime: formatUptime(r.uptimeSeconds),
    activeStreams: s.activeStreams,
    successRate: percent(s.streams.completed, s.streams.completed + s.streams.failed),
    firstTokenP95Ms: latencyMs(s.timeToFirstToken).p95,
    issues: r.issues.length,
    activeAlerts,
  };
}
