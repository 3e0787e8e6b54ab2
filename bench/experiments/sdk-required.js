'use strict';
// Experiment: the OpenTelemetry packages Chatpulse's default path loads, required and left idle:
// no meter provider, no exporter, no hooks. Their weight in the heap, nothing else.
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..');
for (const m of ['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/resources', '@opentelemetry/sdk-metrics', '@opentelemetry/exporter-prometheus']) {
  require(require.resolve(m, { paths: [root] }));
}
