import type { Logger } from 'pino';
import type { Discovered, DependencyRegistry, RedisConnection } from '../../instrumentation/discovery/registry';
import { postgresCheck, redisCheck, redisClusterCheck, type CheckScheduler, type DependencyCheck } from '../checks';
import type { HealthConfig } from '../config/health-config';

/** A redis:// URL for the check's own client; user and password percent-encoded (never logged). */
function redisUrl(host: string, port: number, c: Partial<RedisConnection>, db?: number): string {
  // ioredis leaves unset credentials null.
  const user = typeof c.username === 'string' ? c.username : '';
  const auth =
    typeof c.password === 'string' && c.password !== ''
      ? `${encodeURIComponent(user)}:${encodeURIComponent(c.password)}@`
      : user !== ''
        ? `${encodeURIComponent(user)}@`
        : '';
  const h = host.includes(':') ? `[${host}]` : host;
  return `${c.tls ? 'rediss' : 'redis'}://${auth}${h}:${port}${db !== undefined ? `/${db}` : ''}`;
}

/**
 * Zero-code mode: every Postgres database and Redis server (or Cluster) the app's own clients
 * connect to becomes a dependency check, the same check a DATABASE_URL / REDIS_URL gives, with
 * the same defaults (Postgres required, Redis optional). A URL that is configured wins: the
 * servers of that kind the app connects to are then not checked a second time. The first of a
 * kind keeps the usual name (`database`, `redis`), so rules and readiness read the same.
 */
export function followDiscovered(registry: DependencyRegistry, config: HealthConfig, scheduler: CheckScheduler, logger: Logger): () => void {
  const nameFor = (usual: string, where: string): string => (scheduler.result(usual) === undefined ? usual : `${usual}:${where}`);

  const checkFor = (d: Discovered): DependencyCheck | undefined => {
    if (d.kind === 'postgres') {
      const schedule = config.discovered.database;
      if (config.database !== undefined || schedule === undefined) return undefined;
      const c = d.connection;
      return postgresCheck({ name: nameFor('database', `${c.host}:${c.port}/${c.database ?? ''}`), connection: c, ...schedule });
    }
    const schedule = config.discovered.redis;
    if (config.redis !== undefined || schedule === undefined) return undefined;
    if (d.kind === 'redis') {
      const c = d.connection;
      // A unix socket has no URL form the check's client takes; such a server stays unchecked.
      if (c.path !== undefined) return undefined;
      return redisCheck({ name: nameFor('redis', `${c.host}:${c.port}/${c.db}`), url: redisUrl(c.host, c.port, c, c.db), ...schedule });
    }
    const nodes = d.nodes.map((n) => redisUrl(n.host, n.port, d.connection));
    return redisClusterCheck({ name: nameFor('redis', d.nodes.map((n) => `${n.host}:${n.port}`).join(',')), nodes, ...schedule });
  };

  return registry.follow((d) => {
    try {
      const check = checkFor(d);
      if (check === undefined) return;
      scheduler.add(check);
      logger.info({ dependency: check.name, component: check.component, required: check.required }, 'checking a dependency the app connects to');
    } catch (err) {
      logger.warn({ err, kind: d.kind }, 'could not check a dependency the app connects to');
    }
  });
}
