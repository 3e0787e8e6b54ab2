import { AggregationTemporality, InstrumentType, type CollectionResult, type MetricData } from '@opentelemetry/sdk-metrics';
import type { ModuleTarget } from '../hooks/module-patcher';
import { reportSuppressed, safely } from '../hooks/safely';
import { log } from '../log';
import { ChatpulseMetricProducer } from '../metrics/producer';
import type { ProcessSampler } from '../metrics/process-metrics';
import type { Recorder } from '../metrics/recorder';

const kPatched = Symbol.for('chatpulse.sdk.reader.patched');
/** Marks Chatpulse's own readers: they carry its producer already and never join twice. */
export const kOwnReader = Symbol.for('chatpulse.sdk.own-reader');

/** The part of an SDK 1.x or 2.x MetricReader the join relies on: its public methods only. */
interface ReaderLike {
  [kOwnReader]?: true;
  collect(this: ReaderLike, options?: unknown): Promise<CollectionResult>;
  setMetricProducer(this: ReaderLike, producer: unknown): void;
  selectAggregationTemporality?(instrumentType: InstrumentType): AggregationTemporality;
}

export interface AppReaderListener {
  /** A reader of the app's joined a MeterProvider: the app has a metric pipeline of its own. */
  onAppReader(readerName: string): void;
}

/**
 * Makes Chatpulse's metrics flow through the readers the app builds with its own OpenTelemetry
 * SDK (Prometheus, any periodic exporter; SDK 1.x and 2.x), with the app's resource.
 *
 * Two public MetricReader methods are wrapped on the prototype, so every reader subclass and every
 * way of building a MeterProvider is covered: `setMetricProducer` (called once when a reader joins
 * a provider: that is how the app's pipeline is noticed) and `collect` (Chatpulse's data is added
 * to what the SDK collected). A metric whose name the app's own instruments already export (its
 * http instrumentation's `http.server.request.duration`, or Chatpulse's producer passed by hand)
 * is left out, so each name comes out once.
 */
export function joinAppReaders(recorder: Recorder, sampler: ProcessSampler, listener: AppReaderListener): ModuleTarget {
  const producers = new WeakMap<object, ChatpulseMetricProducer>();
  const reportedDuplicates = new Set<string>();

  const producerFor = (reader: ReaderLike): ChatpulseMetricProducer => {
    let p = producers.get(reader);
    if (p === undefined) {
      // The reader's own choice for counters (delta for most SaaS backends, cumulative for Prometheus).
      const temporality = reader.selectAggregationTemporality?.(InstrumentType.COUNTER) === AggregationTemporality.DELTA ? 'delta' : 'cumulative';
      p = new ChatpulseMetricProducer(recorder, temporality, sampler);
      producers.set(reader, p);
    }
    return p;
  };

  const addOurs = async (reader: ReaderLike, result: CollectionResult): Promise<CollectionResult> => {
    const theirs = new Set<string>();
    for (const scope of result.resourceMetrics.scopeMetrics) for (const m of scope.metrics) theirs.add(m.descriptor.name.toLowerCase());
    const ours = await producerFor(reader).collect();
    const scopeMetrics = ours.resourceMetrics.scopeMetrics.map((s) => ({
      scope: s.scope,
      metrics: s.metrics.filter((m: MetricData) => {
        const name = m.descriptor.name.toLowerCase();
        if (!theirs.has(name)) return true;
        if (!reportedDuplicates.has(name)) {
          reportedDuplicates.add(name);
          log.debug(`${m.descriptor.name} is already exported by the app's own instruments; Chatpulse leaves its copy out of the app's reader`);
        }
        return false;
      }),
    }));
    return {
      resourceMetrics: { resource: result.resourceMetrics.resource, scopeMetrics: result.resourceMetrics.scopeMetrics.concat(scopeMetrics) },
      errors: result.errors.concat(ours.errors),
    };
  };

  return {
    file: '@opentelemetry/sdk-metrics/build/src/export/MetricReader.js',
    patch(moduleExports) {
      const proto = (moduleExports as { MetricReader?: { prototype?: ReaderLike & { [kPatched]?: true } } }).MetricReader?.prototype;
      if (proto === undefined || typeof proto.collect !== 'function' || typeof proto.setMetricProducer !== 'function' || proto[kPatched]) {
        return undefined;
      }
      const { collect, setMetricProducer } = proto;
      const joinedCollect: ReaderLike['collect'] = async function (this: ReaderLike, ...args: unknown[]) {
        const result = await collect.apply(this, args as [unknown]);
        if (this[kOwnReader] === true) return result;
        try {
          return await addOurs(this, result);
        } catch (err) {
          // The app's own telemetry goes out whatever happens to Chatpulse's part.
          reportSuppressed(err);
          return result;
        }
      };
      const joinedSetMetricProducer: ReaderLike['setMetricProducer'] = function (this: ReaderLike, producer: unknown) {
        setMetricProducer.call(this, producer);
        if (this[kOwnReader] !== true) safely(() => listener.onAppReader(this.constructor?.name ?? 'MetricReader'));
      };
      proto.collect = joinedCollect;
      proto.setMetricProducer = joinedSetMetricProducer;
      proto[kPatched] = true;
      return () => {
        if (proto.collect === joinedCollect) proto.collect = collect;
        if (proto.setMetricProducer === joinedSetMetricProducer) proto.setMetricProducer = setMetricProducer;
        delete proto[kPatched];
      };
    },
  };
}
