import type { EndpointStatus } from '../../instrumentation/export/readers';
import type { CheckOutcome, DependencyCheck } from '../checks/types';

/**
 * Zero-code mode: the state of Chatpulse's own Prometheus endpoint, as a check, so a port it
 * could not bind shows on the health endpoints and the status page, not only in a log line.
 * Optional: metrics that are not served degrade the report; the app itself is fine.
 */
export function metricsEndpointCheck(status: () => EndpointStatus | undefined): DependencyCheck {
  return {
    name: 'system:metrics-endpoint',
    component: 'system',
    measurement: 'status',
    required: false,
    intervalMs: 5_000,
    timeoutMs: 1_000,
    async run(): Promise<CheckOutcome> {
      const s = status();
      if (s === undefined) return { measurement: 'status', status: 'pass', message: 'no Prometheus endpoint configured' };
      const details = { state: s.state, address: `http://${s.host}:${s.port}/metrics` };
      switch (s.state) {
        case 'unavailable':
          return {
            measurement: 'status',
            status: 'warn',
            message: `could not listen on ${s.host}:${s.port} (${s.reason ?? 'error'}): metrics are not served; set OTEL_EXPORTER_PROMETHEUS_PORT to a free port`,
            details,
          };
        case 'stood down':
          return { measurement: 'status', status: 'pass', message: "metrics go through the app's own OpenTelemetry readers", details };
        default:
          return { measurement: 'status', status: 'pass', details };
      }
    },
  };
}
