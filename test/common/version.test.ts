import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../common/version';
import { packageVersion } from '../../src/cli/args';
import { ChatpulseMetricProducer } from '../../instrumentation/metrics/producer';
import { Recorder } from '../../instrumentation/metrics/recorder';

const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

describe('one version source', () => {
  it("is package.json's version, for the CLI and the instrumentation scope alike", async () => {
    expect(VERSION).toBe(pkg.version);
    expect(packageVersion()).toBe(pkg.version);
    const { resourceMetrics } = await new ChatpulseMetricProducer(new Recorder(), 'cumulative').collect();
    expect(resourceMetrics.scopeMetrics[0]!.scope).toEqual({ name: 'chatpulse', version: pkg.version });
  });
});
