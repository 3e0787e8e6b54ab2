/**
 * Loads the app's checks module in zero-code mode (CHATPULSE_HEALTH_CHECKS or `healthChecks`):
 * CommonJS or ESM, its default export or `checks` the array of checks. Loaded once at start;
 * every failure is a ChatpulseConfigError naming the setting, the file and the problem.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ChatpulseConfigError } from '../../common/errors';
import { errorMessage } from './redact';
import { customChecks } from './custom';
import type { DependencyCheck } from './types';

/** The checks the module at `file` (absolute) exports, validated; `field` is the setting that named it. */
export async function loadChecksModule(file: string, field: string, taken: readonly string[] = []): Promise<DependencyCheck[]> {
  const fail = (message: string): never => {
    throw ChatpulseConfigError.of(field, `${file}: ${message}`);
  };
  if (!existsSync(file)) fail('no such file');
  let mod: Record<string, unknown>;
  try {
    // import(), kept as such in the CommonJS build (nodenext): it loads both kinds of module on Node 20.
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    return fail(`cannot be loaded: ${errorMessage(err)}`);
  }
  const list = exported(mod);
  if (list === undefined) fail('expected the checks array as the default export (module.exports = [...], export default [...]) or as `checks`');
  try {
    return customChecks(list, 'checks', taken);
  } catch (err) {
    if (err instanceof ChatpulseConfigError) fail(err.message);
    throw err;
  }
}

/** `export default [...]`, `module.exports = [...]`, `export const checks`, `exports.checks`, or `module.exports = { checks }`. */
function exported(mod: Record<string, unknown>): unknown {
  if (Array.isArray(mod.default)) return mod.default;
  if (mod.checks !== undefined) return mod.checks;
  const d = mod.default;
  if (d !== null && typeof d === 'object' && 'checks' in d) return (d as { checks: unknown }).checks;
  return undefined;
}
