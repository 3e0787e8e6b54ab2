import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Chatpulse's version, from its own package.json: the one version source for the CLI, the
 * health endpoints, the status page and the instrumentation scope. Looked up upward from this
 * file because the depth differs between the sources and dist/.
 */
function findVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'chatpulse' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export const VERSION: string = findVersion();
