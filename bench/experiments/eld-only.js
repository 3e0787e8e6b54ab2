'use strict';
// Experiment: only the event-loop delay monitor Chatpulse's process sampler starts (20 ms
// resolution), nothing else loaded.
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 20 });
h.enable();
globalThis.__eld = h;
