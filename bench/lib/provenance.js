'use strict';
/** Which code a benchmark result belongs to: the commit, and whether the instrumentation sources differed from it. */
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

function git(args) {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function provenance() {
  const dirty = git(['status', '--porcelain', '--', 'instrumentation', 'index.ts', 'src']);
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    instrumentationDirty: dirty === undefined ? undefined : dirty.length > 0,
    node: process.version,
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
  };
}

module.exports = { provenance };
