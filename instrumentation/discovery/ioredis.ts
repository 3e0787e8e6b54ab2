import type { ModuleTarget } from '../hooks/module-patcher';
import { safely } from '../hooks/safely';
import type { DependencyRegistry } from './registry';

const kPatched = Symbol.for('chatpulse.ioredis.discovery.patched');
/** Set on the per-node clients a Cluster creates: the cluster is the dependency, not each node. */
const kClusterNode = Symbol.for('chatpulse.ioredis.cluster-node');
/** The health service's own Redis clients name their connection so. */
const HEALTH_CONNECTION_NAME = 'chatpulse-health';

interface RedisOptions {
  host?: string;
  port?: number;
  path?: string;
  username?: string;
  password?: string;
  db?: number;
  tls?: unknown;
  sentinels?: unknown;
  connectionName?: string;
}

type Patchable = Record<PropertyKey, unknown>;

/** Replaces `proto[method]` with `around(original)` and marks the prototype; returns the undo. */
function wrap(proto: Patchable, method: string, around: (original: (...a: unknown[]) => unknown) => (this: unknown, ...a: unknown[]) => unknown) {
  const original = proto[method] as (...a: unknown[]) => unknown;
  const wrapped = around(original);
  proto[method] = wrapped;
  proto[kPatched] = true;
  return () => {
    if (proto[method] === wrapped) proto[method] = original;
    delete proto[kPatched];
  };
}

function clusterNodes(startupNodes: unknown): { host: string; port: number }[] {
  const out: { host: string; port: number }[] = [];
  for (const n of Array.isArray(startupNodes) ? startupNodes : [startupNodes]) {
    if (typeof n === 'number') out.push({ host: '127.0.0.1', port: n });
    else if (typeof n === 'string') {
      const m = /^(?:rediss?:\/\/)?(?:[^@/]*@)?([^:/]+)(?::(\d+))?/.exec(n);
      if (m !== null) out.push({ host: m[1]!, port: Number(m[2] ?? 6379) });
    } else if (n !== null && typeof n === 'object') {
      const o = n as { host?: string; port?: number | string };
      out.push({ host: o.host ?? '127.0.0.1', port: Number(o.port ?? 6379) });
    }
  }
  return out;
}

/**
 * Notes the Redis server of every ioredis client that connects, and the seed nodes of every
 * Cluster; a cluster's own per-node clients and sentinel-managed clients are left out.
 */
export function ioredisDiscoveryTargets(registry: DependencyRegistry): ModuleTarget[] {
  const noteRedis = (redis: { options?: RedisOptions; [kClusterNode]?: true }): void => {
    const o = redis.options;
    if (o === undefined || redis[kClusterNode] === true || o.sentinels || o.connectionName === HEALTH_CONNECTION_NAME) return;
    // A Cluster's own helper connections (slot refresher, subscribers) are named so by ioredis.
    if (typeof o.connectionName === 'string' && o.connectionName.startsWith('ioredis-cluster(')) return;
    const host = o.host ?? 'localhost';
    const port = Number(o.port ?? 6379);
    const db = Number(o.db ?? 0);
    registry.add({
      kind: 'redis',
      key: o.path ? `redis:${o.path}/${db}` : `redis:${host}:${port}/${db}`,
      connection: { host, port, path: o.path ?? undefined, username: o.username ?? undefined, password: o.password ?? undefined, db, tls: o.tls },
    });
  };
  const noteCluster = (cluster: { startupNodes?: unknown; options?: { redisOptions?: RedisOptions } }): void => {
    const nodes = clusterNodes(cluster.startupNodes);
    if (nodes.length === 0) return;
    const r = cluster.options?.redisOptions ?? {};
    if (r.connectionName === HEALTH_CONNECTION_NAME) return;
    registry.add({
      kind: 'redis-cluster',
      key: `redis-cluster:${nodes.map((n) => `${n.host}:${n.port}`).sort().join(',')}`,
      nodes,
      connection: { username: r.username ?? undefined, password: r.password ?? undefined, tls: r.tls },
    });
  };
  return [
    {
      file: 'ioredis/built/Redis.js',
      patch(moduleExports) {
        const proto = (moduleExports as { default?: { prototype?: Patchable } }).default?.prototype;
        if (proto === undefined || typeof proto.connect !== 'function' || proto[kPatched]) return undefined;
        return wrap(proto, 'connect', (original) =>
          function (this: unknown, ...args: unknown[]) {
            safely(noteRedis, this as Parameters<typeof noteRedis>[0]);
            return original.apply(this, args);
          },
        );
      },
    },
    {
      file: 'ioredis/built/cluster/ConnectionPool.js',
      patch(moduleExports) {
        const proto = (moduleExports as { default?: { prototype?: Patchable } }).default?.prototype;
        if (proto === undefined || typeof proto.createRedisFromOptions !== 'function' || proto[kPatched]) return undefined;
        return wrap(proto, 'createRedisFromOptions', (original) =>
          function (this: unknown, ...args: unknown[]) {
            const redis = original.apply(this, args);
            // Node clients are created lazy (they connect on first use), so the mark comes in time.
            if (redis !== null && typeof redis === 'object') (redis as { [kClusterNode]?: true })[kClusterNode] = true;
            return redis;
          },
        );
      },
    },
    {
      file: 'ioredis/built/cluster/index.js',
      patch(moduleExports) {
        const proto = (moduleExports as { default?: { prototype?: Patchable } }).default?.prototype;
        if (proto === undefined || typeof proto.connect !== 'function' || proto[kPatched]) return undefined;
        return wrap(proto, 'connect', (original) =>
          function (this: unknown, ...args: unknown[]) {
            safely(noteCluster, this as Parameters<typeof noteCluster>[0]);
            return original.apply(this, args);
          },
        );
      },
    },
  ];
}
