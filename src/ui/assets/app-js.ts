import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../../common/package-root';

/**
 * The status page's script, served as /api/v1/health/ui/app.js: src/ui/client/*.ts, type-checked
 * and bundled by `npm run build` into one file under the package root. Read from there whether
 * the server runs from dist/ or from the sources (tests), once per process, not per request.
 */
export const APP_JS_PATH = path.join(PACKAGE_ROOT, 'dist', 'ui', 'app.js');

/** Reads a built script; throws naming the file when it is not there. */
export function readAppJs(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`the status page's script ${file} is missing or unreadable (${(err as NodeJS.ErrnoException).code ?? String(err)}): run npm run build`);
  }
}

let script: string | undefined;

/** The bundled script, read on first use and kept. */
export function appJs(): string {
  return (script ??= readAppJs(APP_JS_PATH));
}
