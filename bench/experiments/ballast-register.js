'use strict';
// Experiment: ~2.4 MB of inert live heap (small objects and strings), as much as Chatpulse and the
// OpenTelemetry SDK add when loaded, and nothing else.
const keep = [];
for (let i = 0; i < 13000; i++) keep.push({ id: i, name: `ballast-${i}`, next: null, tags: [i, i + 1] });
globalThis.__ballast = keep;
