/** The status page's snapshot view of the push exporters: failing shows, with its reason. */
import { describe, expect, it } from 'vitest';
import { exporterView } from '../../../src/ui/snapshot';

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
