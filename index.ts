/**
 * Chatpulse public API. The zero-code path needs none of it (`--require chatpulse/register`);
 * this is for what automatic detection cannot see, and for apps with their own OpenTelemetry SDK.
 */
export { startStream, recordCacheLookup, recordError } from './instrumentation/api/manual';
export type { StreamHandle, StartStreamOptions } from './instrumentation/api/manual';
export { start, createMetricProducer } from './instrumentation/api/start';
// The error catalogue: every error Chatpulse throws on purpose has a CHATPULSE_ERR_* code.
export { ERROR_CODES, ChatpulseError, ChatpulseConfigError, HttpError, StoreUnavailableError, TimeoutError, UsageError } from './common/errors';
export type { ErrorCode, ConfigProblem } from './common/errors';
export type { StartOptions } from './instrumentation/api/start';
export type { Runtime } from './instrumentation/runtime';
export {
  METRICS,
  ATTR,
  ERROR_TYPES,
  LATENCY_BUCKETS_SECONDS,
  DB_BUCKETS_SECONDS,
} from './instrumentation/metrics/catalog';
export type { StreamOutcome, CacheResult, ErrorType, MetricDefinition } from './instrumentation/metrics/catalog';

// Health service, mounted in the app's own Express server (zero-code mode needs none of this).
export { createHealth } from './src/service/create-health';
export type { Health, CreateHealthOptions } from './src/service/create-health';
export type { HealthCheck, HealthCheckResult } from './src/checks/custom';
/** @deprecated The same class as ChatpulseConfigError; kept for existing importers. */
export { HealthConfigError } from './src/config/health-config';
export type { HealthConfigInput, HealthConfig } from './src/config/health-config';
export type { HealthReport, HealthStatus } from './src/service/health-service';
