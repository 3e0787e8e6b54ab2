import { Hook } from 'require-in-the-middle';
import * as path from 'node:path';
import { log } from '../log';

/** A file inside a package whose exports we patch, e.g. `ioredis/built/Redis.js`. */
export interface ModuleTarget {
  readonly file: string;
  /** Patches the module's exports in place; returns an undo function. */
  readonly patch: (moduleExports: unknown) => (() => void) | undefined;
}

/**
 * Patches package files when they load (require-in-the-middle), and files that already loaded
 * before us (found in require.cache). Internal files are targeted rather than the package entry
 * because an ESM `import` of a CommonJS package loads its entry without `require`, while the
 * entry's own `require` of its internals still goes through the hook.
 */
export function patchModules(targets: readonly ModuleTarget[]): () => void {
  const undos: (() => void)[] = [];
  const apply = (t: ModuleTarget, exports: unknown) => {
    try {
      const undo = t.patch(exports);
      if (undo !== undefined) undos.push(undo);
    } catch (err) {
      log.warn(`could not instrument ${t.file}: ${(err as Error).message}`);
    }
  };
  const packages = [...new Set(targets.map((t) => packageOf(t.file)))];
  const hook = new Hook(packages, { internals: true }, (exports, name) => {
    const normalized = name.split(path.sep).join('/');
    for (const t of targets) if (normalized === t.file) apply(t, exports);
    return exports;
  });
  for (const [file, mod] of Object.entries(require.cache)) {
    const normalized = file.split(path.sep).join('/');
    for (const t of targets) {
      if (mod !== undefined && normalized.endsWith(`/node_modules/${t.file}`)) apply(t, mod.exports);
    }
  }
  return () => {
    hook.unhook();
    for (const undo of undos.splice(0)) undo();
  };
}

/** The package a target file belongs to: `pg` for `pg/lib/client.js`, `@scope/name` for a scoped one. */
function packageOf(file: string): string {
  const parts = file.split('/');
  return file.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}
