import { ChatpulseConfigError } from '../../common/errors';
import { describeProblem, resolveConfig, type Env, type ExporterName } from '../config/env';
import { ChatpulseMetricProducer, type Temporality } from '../metrics/producer';
import { ProcessSampler } from '../metrics/process-metrics';
import { currentRuntime, globalRecorder, startRuntime, type Runtime } from '../runtime';
import type { MetricProducer } from '@opentelemetry/sdk-metrics';

export { ChatpulseConfigError };

export interface StartOptions {
  /** Environment to read `OTEL_*` and `CHATPULSE_*` from. Default: `process.env`. */
  readonly env?: Env;
  /** Overrides `OTEL_METRICS_EXPORTER`; `[]` installs the hooks only (for apps with their own SDK). */
  readonly exporters?: readonly ExporterName[];
}

/**
 * Starts Chatpulse from code. Unlike the zero-code hook, which warns and falls back, this throws a
 * ChatpulseConfigError naming every invalid variable: code that calls it can fix its configuration.
 */
export function start(options: StartOptions = {}): Runtime {
  const existing = currentRuntime();
  if (existing !== undefined) return existing;
  const { config, problems } = resolveConfig(options.env ?? process.env);
  if (problems.length > 0) {
    throw new ChatpulseConfigError(
      problems.map((p) => ({ field: p.variable, message: describeProblem(p) })),
      `invalid Chatpulse configuration: ${problems.map(describeProblem).join('; ')}`,
    );
  }
  const effective = options.exporters === undefined ? config : Object.freeze({ ...config, exporters: [...options.exporters], defaultExporter: false });
  return startRuntime(effective);
}

let sharedSampler: ProcessSampler | undefined;

/**
 * A MetricProducer for an app that runs its own OpenTelemetry SDK: pass it in `metricProducers`
 * of each of its readers (one producer per reader). Pair with `start({ exporters: [] })`.
 */
export function createMetricProducer(options: { temporality?: Temporality } = {}): MetricProducer {
  const runtime = currentRuntime();
  const sampler = runtime?.sampler ?? (sharedSampler ??= new ProcessSampler());
  return new ChatpulseMetricProducer(globalRecorder(), options.temporality ?? 'cumulative', sampler);
}
