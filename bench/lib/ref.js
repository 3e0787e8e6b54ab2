'use strict';
const path = require('node:path');

/** A `--ref NAME=DIST` value: another build's dist/ measured as variant NAME. */
function parseRef(value) {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) throw new Error(`--ref must be NAME=DIST, got ${value}`);
  return { name: value.slice(0, eq), dir: path.resolve(value.slice(eq + 1)) };
}

module.exports = { parseRef };
