/**
 * The Postgres databases and Redis servers the app's own clients connect to, as the hooks see
 * them. The health service (zero-code mode) turns each into a dependency check. Connection
 * details are kept as the client had them, password included, to connect the same way; they are
 * never logged or shown (the checks redact their targets and messages).
 */
export interface PostgresConnection {
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  /** A string, or pg's function form (rotating tokens), as the app gave it. */
  readonly password?: unknown;
  readonly database?: string;
  readonly ssl?: unknown;
}

export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly path?: string;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls?: unknown;
}

export type Discovered =
  | { readonly kind: 'postgres'; readonly key: string; readonly connection: PostgresConnection }
  | { readonly kind: 'redis'; readonly key: string; readonly connection: RedisConnection }
  | {
      readonly kind: 'redis-cluster';
      readonly key: string;
      readonly nodes: readonly { readonly host: string; readonly port: number }[];
      /** Options every node shares (credentials, TLS). */
      readonly connection: Omit<RedisConnection, 'host' | 'port' | 'db' | 'path'>;
    };

/** More than this many distinct servers is not a deployment, it is a bug or a test: stop listening. */
export const MAX_DISCOVERED = 16;

export type DiscoveryListener = (d: Discovered) => void;

export class DependencyRegistry {
  private readonly entries = new Map<string, Discovered>();
  private readonly listeners = new Set<DiscoveryListener>();

  /** Adds a server once per key; returns whether it was new. Listener failures are theirs. */
  add(d: Discovered): boolean {
    if (this.entries.has(d.key) || this.entries.size >= MAX_DISCOVERED) return false;
    this.entries.set(d.key, d);
    for (const l of this.listeners) {
      try {
        l(d);
      } catch {
        // A listener must not break the app's connect; the health service logs its own failures.
      }
    }
    return true;
  }

  all(): Discovered[] {
    return [...this.entries.values()];
  }

  /** Calls `listener` for every server known now and every one found later. */
  follow(listener: DiscoveryListener): () => void {
    for (const d of this.entries.values()) listener(d);
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

const kRegistry = Symbol.for('chatpulse.discovered-dependencies');

/** One registry per process, shared like the recorder (the hook and the app's import of the package). */
export function globalDependencies(): DependencyRegistry {
  const g = globalThis as typeof globalThis & { [kRegistry]?: DependencyRegistry };
  return (g[kRegistry] ??= new DependencyRegistry());
}
