'use strict';
const path = require('node:path');

/** This checkout's build. */
const DIST = path.join(__dirname, '..', '..', 'dist');

/** The zero-code entry point (`--require` it) of a build's dist/, this checkout's by default. */
function registerOf(dist = DIST) {
  return path.join(dist, 'instrumentation', 'register.js');
}

/** A `--ref NAME=DIST` value: another build's dist/ measured as variant NAME. */
function parseRef(value) {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new Error(`--ref must be NAME=DIST, got ${value}`);
  return { name: value.slice(0, eq), dir: path.resolve(value.slice(eq + 1)) };
}

module.exports = { parseRef, registerOf };
