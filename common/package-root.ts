import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Chatpulse's own package directory (where its package.json is), looked up upward from this
 * file because the depth differs between the sources (tests) and dist/. Undefined if not found.
 */
function findRoot(): { dir: string; version: string } | undefined {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'chatpulse' && typeof pkg.version === 'string') return { dir, version: pkg.version };
    } catch {
      // not here: look one level up
    }
    dir = path.dirname(dir);
  }
  return undefined;
}

const root = findRoot();

/** The package directory; if not found, the parent of common/ (where this file is in the sources). */
export const PACKAGE_ROOT: string = root?.dir ?? path.resolve(__dirname, '..');
export const PACKAGE_VERSION: string | undefined = root?.version;
