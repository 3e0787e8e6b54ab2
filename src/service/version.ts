import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Chatpulse's own version, from its package.json (found upward: the depth differs in dist/). */
function findVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'chatpulse' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // keep looking upward
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export const VERSION = findVersion();
