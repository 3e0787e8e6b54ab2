/** The status page's snapshot: the push exporters (failing shows, with its reason) and the model calls. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Recorder } from '../../../instrumentation/metrics/recorder';
import { DEFAULT_THRESHOLDS } from '../../../src/grading/kpi-table';
import { createHealth, type Health } from '../../../src/service/create-health';
import { buildSnapshot, exporterView, type SnapshotInputs } from '../../../src/ui/snapshot';

const base = { exporter: 'OTLP', endpoint: 'http://collector:4318/v1/metrics', exports: 10, failures: 0, consecutiveFailures: 0, lastSuccessAt: null, lastFailureAt: null, lastError: null };

describe('exporterView', () => {
  it('a failing exporter is a warning row with the count and the last error', () => {
    const v = exporterView({ ...base, state: 'failing', failures: 4, consecutiveFailures: 3, lastError: 'connect ECONNREFUSED 127.0.0.1:4318' });
    expect(v).toMatchObject({ name: 'telemetry:OTLP', group: 'dependencies', status: 'warn', graded: true, required: false, value: '6/10 exports' });
    expect(v.message).toBe('3 failed in a row to http://collector:4318/v1/metrics: connect ECONNREFUSED 127.0.0.1:4318');
  });
  it('a working exporter passes; one that has not exported yet is not graded', () => {
    expect(exporterView({ ...base, state: 'ok' })).toMatchObject({ status: 'pass', graded: true, message: null });
    expect(exporterView({ ...base, state: 'unknown', exports: 0 })).toMatchObject({ status: 'pass', graded: false, message: 'no export yet' });
  });
});

describe('buildSnapshot: upstream', () => {
  let health: Health;
  beforeAll(async () => {
    health = await createHealth({ env: {}, recorder: new Recorder(), logger: pino({ level: 'silent' }), config: { minSamples: 5 } });
  });
  afterAll(() => health.close());

  const inputs = (): SnapshotInputs => ({
    service: 'snapshot-test',
    version: '1.2.3',
    report: health.service.report(),
    thresholds: health.config.thresholds,
    events: [],
    history: { capacity: 10, intervalMs: 1000, points: [] },
  });
  const stats = { provider: 'anthropic', model: 'claude-sonnet-4-5', calls: 4, errors: 1, firstChunks: 3, firstChunkP50: 0.8, firstChunkP95: 1.9 };

  it('is empty without the upstream window (fleet mode): no panel', () => {
    expect(buildSnapshot(inputs()).upstream).toEqual([]);
  });

  it('has one row per provider and model, graded with the given minimum sample count', () => {
    const rows = buildSnapshot({ ...inputs(), upstream: { stats: [stats], grading: { thresholds: DEFAULT_THRESHOLDS, minSamples: 5 } } }).upstream;
    expect(rows).toEqual([
      { provider: 'anthropic', model: 'claude-sonnet-4-5', calls: 4, errors: 1, errorRate: 0.25, firstChunkP50Ms: 800, firstChunkP95Ms: 1900, status: 'pass', graded: false },
    ]);
    // Enough samples: the same numbers grade fail (error rate 25 % > 5 %).
    expect(buildSnapshot({ ...inputs(), upstream: { stats: [stats], grading: { thresholds: DEFAULT_THRESHOLDS, minSamples: 3 } } }).upstream[0]).toMatchObject({ status: 'fail', graded: true });
  });
});
