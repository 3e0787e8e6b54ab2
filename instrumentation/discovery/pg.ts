import { HEALTH_APPLICATION_NAME } from '../hooks/pg';
import type { ModuleTarget } from '../hooks/module-patcher';
import { safely } from '../hooks/safely';
import type { DependencyRegistry } from './registry';

const kPatched = Symbol.for('chatpulse.pg.discovery.patched');

interface ConnectionParameters {
  host?: string;
  port?: number | string;
  user?: string;
  password?: unknown;
  database?: string;
  ssl?: unknown;
  application_name?: string;
}

/**
 * Notes the database of every `pg.Client` that connects (pools connect through it too), from
 * the parameters pg resolved (options, connection string and PG* variables alike).
 */
export function pgDiscoveryTarget(registry: DependencyRegistry): ModuleTarget {
  const note = (p: ConnectionParameters | undefined): void => {
    // The health service's own probes are not the app's database.
    if (p === undefined || p.application_name === HEALTH_APPLICATION_NAME) return;
    const host = p.host ?? 'localhost';
    const port = Number(p.port ?? 5432);
    registry.add({
      kind: 'postgres',
      key: `postgres:${host}:${port}/${p.database ?? ''}`,
      connection: { host, port, user: p.user, password: p.password, database: p.database, ssl: p.ssl },
    });
  };
  return {
    file: 'pg/lib/client.js',
    patch(moduleExports) {
      const proto = (moduleExports as { prototype?: Record<PropertyKey, unknown> }).prototype;
      if (proto === undefined || typeof proto.connect !== 'function' || proto[kPatched]) return undefined;
      const original = proto.connect as (this: { connectionParameters?: ConnectionParameters }, ...args: unknown[]) => unknown;
      const connect = function (this: { connectionParameters?: ConnectionParameters }, ...args: unknown[]) {
        safely(note, this.connectionParameters);
        return original.apply(this, args);
      };
      proto.connect = connect;
      proto[kPatched] = true;
      return () => {
        if (proto.connect === connect) proto.connect = original;
        delete proto[kPatched];
      };
    },
  };
}
