import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closedPort } from './net';

const exec = promisify(execFile);
const ROOT = '/usr/lib/postgresql';

/** The newest Debian Postgres bin dir with initdb and pg_ctl, if installed. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const versions = readdirSync(ROOT)
    .filter((v) => existsSync(join(ROOT, v, 'bin', 'initdb')) && existsSync(join(ROOT, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] !== undefined ? join(ROOT, versions[0], 'bin') : undefined;
}

/**
 * A throwaway Postgres cluster on a free port, for tests that stop and restart the server. The
 * binaries refuse to run as root, so as root they run as `postgres` via runuser, in a temp dir
 * owned by that user. Host connections need a password (scram), so tests can also prove a wrong
 * one is never echoed.
 */
export class TempCluster {
  readonly dir: string;
  readonly data: string;
  port = 0;

  private constructor(
    private readonly bin: string,
    readonly password: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'chatpulse-pg-'));
    this.data = join(this.dir, 'data');
  }

  static async create(password: string): Promise<TempCluster> {
    const bin = postgresBinDir();
    if (bin === undefined) throw new Error('no Postgres binaries under /usr/lib/postgresql');
    const c = new TempCluster(bin, password);
    const pwfile = join(c.dir, 'pw');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (userInfo().uid === 0) {
      const { stdout } = await exec('id', ['-u', 'postgres']);
      const { stdout: gid } = await exec('id', ['-g', 'postgres']);
      for (const p of [c.dir, pwfile]) chownSync(p, Number(stdout), Number(gid));
    }
    await c.as('initdb', ['-D', c.data, '-U', 'postgres', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8'], 30_000);
    c.port = await closedPort();
    return c;
  }

  get url(): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    const opts = `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c shared_preload_libraries=pg_stat_statements`;
    await this.as('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'log'), '-o', opts, '-w', '-t', '20', 'start'], 25_000);
  }

  async stop(): Promise<void> {
    await this.as('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', '-t', '20', 'stop'], 25_000);
  }

  /** Stops the server if it runs and removes the cluster directory. */
  async destroy(): Promise<void> {
    try {
      await this.as('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', '-t', '10', 'stop'], 15_000);
    } catch {
      // Not running.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async as(tool: string, args: string[], timeout: number): Promise<void> {
    const path = join(this.bin, tool);
    const [cmd, argv] = userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    await exec(cmd as string, argv as string[], { timeout, cwd: this.dir });
  }
}
