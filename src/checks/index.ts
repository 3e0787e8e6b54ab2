/** Dependency and system checks, and the scheduler that runs them in the background. */
export type { CheckResult, CheckStatus, DependencyCheck } from './types';
export { CheckScheduler, type CheckSchedulerOptions, type CheckStats, type StatusChange, type StatusListener } from './scheduler';
export { postgresCheck, POSTGRES_DEFAULTS, type PostgresCheckOptions } from './postgres';
export { redisCheck, REDIS_DEFAULTS, type RedisCheckOptions } from './redis';
export { redisClusterCheck, type RedisClusterCheckOptions } from './redis-cluster';
export { upstreamCheck, UPSTREAM_DEFAULTS, type UpstreamCheckOptions } from './upstream';
export {
  systemChecks,
  memoryCheck,
  cpuCheck,
  eventLoopCheck,
  diskCheck,
  SYSTEM_DEFAULTS,
  type SystemChecksOptions,
  type SystemCheckCommon,
} from './system';
export { gradeHigh, gradeLow, worst, type Thresholds } from './grade';
export { redactUrl, redactText } from './redact';
