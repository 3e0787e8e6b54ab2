/**
 * Running the built CLI (`dist/src/cli/main.js`) as a child process, the way `npx chatpulse` runs
 * it: real argv, real exit codes. `ensureBuilt()` rebuilds dist when the CLI or fleet output is
 * missing or older than src/cli and src/fleet (under a lock, since test files run in parallel
 * workers). It does not look further: `npm test` builds everything first (pretest), and a rebuild
 * while other test files run their children from dist could hand them half-written files.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

const BUILT = [CLI, path.join(REPO, 'dist', 'src', 'fleet', 'prometheus-source.js'), path.join(REPO, 'dist', 'instrumentation', 'register.js')];

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function stale(): boolean {
  const src = Math.max(newestSource(path.join(REPO, 'src', 'cli')), newestSource(path.join(REPO, 'src', 'fleet')));
  return BUILT.some((f) => mtime(f) < src);
}

/** Builds dist when the CLI's output is missing or older than its sources (`npm test` already did, via pretest). */
export function ensureBuilt(): void {
  if (!stale()) return;
  const lock = path.join(REPO, 'dist', '.test-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker is building; a lock older than a minute is left over from a crash.
      if (Date.now() - mtime(lock) > 60_000) rmdirSync(lock);
      if (Date.now() > deadline) throw new Error('timed out waiting for the dist build lock');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!stale()) return;
    try {
      execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'pipe' });
    } catch (err) {
      // Type errors elsewhere still emit JavaScript; only missing output is fatal.
      if (BUILT.some((f) => mtime(f) === 0)) throw new Error(`build failed:\n${String((err as { stdout?: Buffer }).stdout ?? err)}`);
    }
  } finally {
    rmdirSync(lock);
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs `node dist/src/cli/main.js ...args` to completion (asynchronously: the servers it talks to
 * may live in this process). The environment is PATH plus `env`: nothing of the runner's leaks in.
 */
export function runCli(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 15_000): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chatpulse ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    // 'close' comes after the exit and after stdout and stderr ended.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}
