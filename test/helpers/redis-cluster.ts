import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closedPort } from './net';

const exec = promisify(execFile);

/**
 * A throwaway Redis Cluster of three masters (no replicas) on free ports, from the same
 * `redis-server` binary that serves 127.0.0.1:6379. Nothing is persisted; stop() kills the nodes
 * and removes their directory.
 */
export class TempRedisCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'chatpulse-redis-cluster-'));
  readonly ports: number[] = [];
  private readonly nodes: ChildProcess[] = [];

  static async start(masters = 3): Promise<TempRedisCluster> {
    const c = new TempRedisCluster();
    try {
      for (let i = 0; i < masters; i++) await c.startNode();
      await exec('redis-cli', ['--cluster', 'create', ...c.ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: 30_000,
      });
      // Every node, not just one: the others converge a little later, and a client may ask any of them.
      for (const p of c.ports) await c.waitFor(async () => (await c.cli(p, 'cluster', 'info')).includes('cluster_state:ok'), `cluster_state:ok on ${p}`);
      return c;
    } catch (err) {
      c.stop();
      throw err;
    }
  }

  private async startNode(): Promise<void> {
    const port = await closedPort();
    const node = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '5000', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    this.nodes.push(node);
    this.ports.push(port);
    await this.waitFor(async () => (await this.cli(port, 'ping')) === 'PONG', `redis-server on ${port}`);
  }

  /** One redis-cli command against one node; its trimmed output. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await exec('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
    return stdout.trim();
  }

  async nodeId(port: number): Promise<string> {
    return this.cli(port, 'cluster', 'myid');
  }

  /** The port of the master serving a slot, from CLUSTER NODES (`id ip:port@bus flags … ranges`). */
  async ownerOf(slot: number): Promise<number> {
    for (const line of (await this.cli(this.ports[0]!, 'cluster', 'nodes')).split('\n')) {
      const f = line.split(' ');
      if (!f[2]?.includes('master')) continue;
      for (const range of f.slice(8)) {
        const [lo, hi = lo] = range.split('-').map(Number);
        if (slot >= lo! && slot <= hi!) return Number(f[1]!.split('@')[0]!.split(':')[1]);
      }
    }
    throw new Error(`slot ${slot} is not served`);
  }

  /**
   * Moves one slot and its keys from one master to another (the resharding steps of the Redis
   * Cluster specification) and tells every node, so a client that cached the old owner is
   * answered MOVED by it.
   */
  async moveSlot(slot: number, from: number, to: number): Promise<void> {
    const [fromId, toId] = [await this.nodeId(from), await this.nodeId(to)];
    await this.cli(to, 'cluster', 'setslot', String(slot), 'importing', fromId);
    await this.cli(from, 'cluster', 'setslot', String(slot), 'migrating', toId);
    for (;;) {
      const keys = (await this.cli(from, 'cluster', 'getkeysinslot', String(slot), '100')).split('\n').filter(Boolean);
      if (keys.length === 0) break;
      await this.cli(from, 'migrate', '127.0.0.1', String(to), '', '0', '5000', 'keys', ...keys);
    }
    for (const p of this.ports) await this.cli(p, 'cluster', 'setslot', String(slot), 'node', toId);
  }

  /** A counter of INFO errorstats (e.g. `MOVED`) on one node: 0 before the first such error. */
  async errorCount(port: number, prefix: string): Promise<number> {
    const m = new RegExp(`errorstat_${prefix}:count=(\\d+)`).exec(await this.cli(port, 'info', 'errorstats'));
    return m ? Number(m[1]) : 0;
  }

  private async waitFor(ok: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      try {
        if (await ok()) return;
      } catch {
        // not up yet
      }
      if (Date.now() > until) throw new Error(`redis cluster: ${what} not reached in ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills one node at once (SIGKILL: no goodbye to the other nodes). */
  kill(port: number): void {
    const i = this.ports.indexOf(port);
    if (i === -1) throw new Error(`no node on ${port}`);
    this.nodes[i]!.kill('SIGKILL');
  }

  stop(): void {
    for (const n of this.nodes) n.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
