import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type MetricData, type Histogram } from '@opentelemetry/sdk-metrics';
import { ChatpulseMetricProducer } from '../../instrumentation/metrics/producer';
import { Recorder } from '../../instrumentation/metrics/recorder';

/** Reads the recorder the way an exporter does, and finds points by metric name and attributes. */
export class MetricsView {
  private readonly producer: ChatpulseMetricProducer;
  constructor(recorder: Recorder) {
    this.producer = new ChatpulseMetricProducer(recorder, 'cumulative');
  }

  metric(name: string): MetricData | undefined {
    return this.producer.metrics().find((m) => m.descriptor.name === name);
  }

  private points(name: string, attrs: Attributes) {
    const m = this.metric(name);
    if (m === undefined) return [];
    return (m.dataPoints as { attributes: Attributes; value: unknown }[]).filter((p) =>
      Object.entries(attrs).every(([k, v]) => p.attributes[k] === v),
    );
  }

  /** Sum of a counter/up-down counter over the points matching `attrs` (0 when absent). */
  value(name: string, attrs: Attributes = {}): number {
    return this.points(name, attrs).reduce((acc, p) => acc + (p.value as number), 0);
  }

  /** The single histogram point matching `attrs`. */
  histogram(name: string, attrs: Attributes = {}): Histogram {
    const m = this.metric(name);
    if (m?.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a recorded histogram`);
    const pts = this.points(name, attrs);
    if (pts.length !== 1) throw new Error(`${name} ${JSON.stringify(attrs)}: expected 1 point, got ${pts.length}`);
    return pts[0]!.value as Histogram;
  }

  /** Histogram count over matching points (0 when absent). */
  count(name: string, attrs: Attributes = {}): number {
    return this.points(name, attrs).reduce((acc, p) => acc + (p.value as Histogram).count, 0);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns true, at most `timeoutMs`. */
export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(10);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A recorder whose model-call recording throws: the GenAI hooks must keep it from the app. */
export function throwingModelRecorder(): Recorder {
  const broken = new Recorder();
  broken.modelFirstChunk = () => {
    throw new Error('boom');
  };
  broken.modelCallEnded = () => {
    throw new Error('boom');
  };
  return broken;
}
