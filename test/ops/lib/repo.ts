/** Paths, YAML/JSON loading and the external tools the ops tests need. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const ALERTS = path.join(REPO, 'alerts');
export const RULES_DIR = path.join(ALERTS, 'rules');
export const RULE_TESTS_DIR = path.join(ALERTS, 'tests');
export const DASHBOARDS = path.join(REPO, 'dashboards');
export const COLLECTOR = path.join(REPO, 'collector-config');

export function readYaml<T = unknown>(file: string): T {
  // merge: docker-compose.yml uses YAML merge keys (<<: *anchor).
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { prettyErrors: true, merge: true });
  if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS() as T;
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function listFiles(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => path.join(dir, f));
}

const INSTALL_HINT = 'install them with `bash .ci/install-ops.sh` (Debian packages prometheus and prometheus-alertmanager)';

/**
 * Absolute path of a required tool on PATH. Throws (the test fails) when it is missing: the ops
 * tests never skip. `alertmanager` also accepts Debian's name for it, `prometheus-alertmanager`.
 */
export function requireTool(name: 'promtool' | 'amtool' | 'prometheus' | 'alertmanager'): string {
  const candidates = name === 'alertmanager' ? ['alertmanager', 'prometheus-alertmanager'] : [name];
  for (const c of candidates) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    const found = r.stdout.trim();
    if (r.status === 0 && found !== '') return found;
  }
  throw new Error(`${name} is not on PATH: the ops tests need promtool, amtool, prometheus and alertmanager; ${INSTALL_HINT}`);
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool synchronously with a time limit; never throws on a non-zero exit. */
export function run(tool: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(tool, args, {
    cwd: options.cwd ?? REPO,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function gitTracked(rel: string): boolean {
  try {
    execFileSync('git', ['ls-files', '--error-unmatch', rel], { cwd: REPO, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs a tool asynchronously with a time limit (SIGKILL when exceeded); never rejects on a non-zero exit. */
export function runAsync(tool: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { cwd: options.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${tool} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms`));
    }, options.timeoutMs ?? 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs async jobs with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
