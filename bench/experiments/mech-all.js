'use strict';
/** Diagnostic preload, no Chatpulse: the three mechanisms of bench/experiments/mech-*.js together. */
require('./mech-state.js');
require('./mech-close.js');
require('./mech-wrap.js');
