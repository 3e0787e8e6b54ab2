'use strict';
/** Which code a benchmark result belongs to: the commit, and whether the instrumentation sources differed from it. */
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
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

/**
 * The built code actually measured: dist/ is rebuilt by whoever runs `npm run build`, so the commit
 * alone does not say which instrumentation ran. A hash of the .js files under dist/instrumentation and their build time do.
 */
function distIdentity(distDir = path.join(ROOT, 'dist')) {
  const dir = path.join(distDir, 'instrumentation');
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.name.endsWith('.js')) files.push(f);
    }
  };
  try {
    walk(dir);
  } catch {
    return {};
  }
  files.sort();
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(path.relative(dir, f)).update('\0').update(fs.readFileSync(f));
  return {
    distHash: h.digest('hex').slice(0, 16),
    distBuiltAt: fs.statSync(path.join(dir, 'register.js')).mtime.toISOString(),
  };
}

function provenance(distDir) {
  const dirty = git(['status', '--porcelain', '--', 'instrumentation', 'index.ts', 'src']);
  return {
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    instrumentationDirty: dirty === undefined ? undefined : dirty.length > 0,
    ...distIdentity(distDir),
    node: process.version,
    cores: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
  };
}

module.exports = { provenance, distIdentity };
