import { Redis } from 'ioredis';
import { abortable, deadline } from './abort';
import { bytes, ms, percent, round } from './format';
import { checkOptions } from './options';
import { infoNumber, memoryOf, parseInfo, writeRoundTrip } from './redis-probes';
import { responseTimeCheck, responseTimeOutcome } from './response-time';
import { errorMessage, redactUrl, urlSecrets } from './redact';
import type { CheckOutcome, CheckStatus, DependencyCheck } from './types';

export interface RedisCheckOptions {
  /** Check name. Default `redis`. */
  readonly name?: string;
  /** Used to create the check's own client when `client` is not given. */
  readonly url?: string;
  /** The app's client: probed as is, never reconnected or closed by the check. */
  readonly client?: Redis;
  /** Default true (sessions and rate limits usually live here); set false for a pure cache. */
  readonly required?: boolean;
  /** Default 15000 ms. */
  readonly intervalMs?: number;
  /** Default 2000 ms: Redis answers in well under a millisecond, two seconds is an outage. */
  readonly timeoutMs?: number;
  /** PING round trip above which the check warns. Default 500 ms, as for Postgres. */
  readonly slowRoundTripMs?: number;
  /** used_memory / maxmemory from which the check warns (evictions or OOM errors follow). Default 0.9. */
  readonly memoryWarnRatio?: number;
  /**
   * Whether to prove writes with SET/GET/DEL on `chatpulse:health:<random>`. Default true; turn
   * off for a read-only replica or an ACL that forbids the key.
   */
  readonly writeCheck?: boolean;
}

export const REDIS_DEFAULTS = {
  name: 'redis',
  required: true,
  intervalMs: 15_000,
  timeoutMs: 2_000,
  slowRoundTripMs: 500,
  memoryWarnRatio: 0.9,
  writeCheck: true,
} as const;

/**
 * Redis PING, a write/read/delete round trip on a unique expiring key, and memory, clients and
 * version from INFO. The check's own client never reconnects in the background (each run
 * reconnects if needed, so attempts follow the check's interval) and its 'error' events are
 * captured into the result, never left unhandled.
 */
export function redisCheck(options: RedisCheckOptions): DependencyCheck {
  if (options.client === undefined && options.url === undefined) {
    throw new TypeError('redisCheck: give a url or a client');
  }
  const o = checkOptions('redisCheck', REDIS_DEFAULTS, options);
  const appClient = options.client;
  const secrets = [
    ...urlSecrets(options.url),
    ...(typeof appClient?.options.password === 'string' ? [appClient.options.password] : []),
  ];
  const target = describeTarget(options);
  let own: Redis | undefined;
  let lastError: string | undefined;

  function ownClient(): Redis {
    if (own === undefined) {
      own = new Redis(options.url as string, {
        lazyConnect: true,
        connectTimeout: o.timeoutMs,
        commandTimeout: o.timeoutMs,
        maxRetriesPerRequest: 0,
        // Fail fast while disconnected instead of queueing behind a reconnect.
        enableOfflineQueue: false,
        // No background reconnect loop: the next run reconnects, at the check's own pace.
        retryStrategy: () => null,
        autoResubscribe: false,
        connectionName: 'chatpulse-health',
      });
      own.on('error', (err: unknown) => {
        lastError = errorMessage(err, secrets);
      });
      // Like the Postgres pool's allowExitOnIdle: a health probe never keeps the process alive.
      own.on('connect', () => (own?.stream as { unref?: () => void } | undefined)?.unref?.());
    }
    return own;
  }

  async function run(parent: AbortSignal): Promise<CheckOutcome> {
    const dl = deadline(parent, o.timeoutMs);
    const { signal } = dl;
    const base = { measurement: 'responseTime', unit: 'ms', threshold: `≤${o.slowRoundTripMs}ms` } as const;
    const failed = (message: string): CheckOutcome => ({
      ...base,
      status: 'fail',
      message,
      details: { target, connectionStatus: 'disconnected' },
    });
    const step = <T>(p: Promise<T>): Promise<T> => abortable(p, signal);
    let client: Redis;
    try {
      if (appClient !== undefined) {
        client = appClient;
        // Commands sent now would sit in the app's offline queue until our deadline.
        if (client.status !== 'ready') return failed(`client is not connected (status: ${client.status})`);
      } else {
        client = ownClient();
        if (client.status !== 'ready') {
          lastError = undefined;
          // Anything but `wait`/`end` is a leftover of an aborted run: let it close first.
          if (!idle(client)) await step(closed(client));
          try {
            await step(client.connect());
          } catch (err) {
            drop(client);
            // ioredis rejects connect() with "Connection is closed."; the cause came as an 'error' event.
            return failed(`cannot connect: ${lastError ?? errorMessage(err, secrets)}`);
          }
        }
      }

      const t0 = performance.now();
      try {
        await step(client.ping());
      } catch (err) {
        return failed(`PING failed: ${errorMessage(err, secrets)}`);
      }
      const pingMs = performance.now() - t0;

      let writeMs: number | undefined;
      if (o.writeCheck) {
        const write = await writeRoundTrip(client, step, o.timeoutMs, secrets);
        if (write.problem !== undefined) return failed(write.problem);
        writeMs = write.ms;
      }

      // INFO is diagnostics: a managed Redis that disables it still passes.
      let info: Record<string, string> | undefined;
      let infoError: string | undefined;
      try {
        info = parseInfo(await step(client.info()));
      } catch (err) {
        if (signal.aborted) throw err;
        infoError = errorMessage(err, secrets);
      }

      const issues: string[] = [];
      let status: CheckStatus = 'pass';
      if (pingMs > o.slowRoundTripMs) {
        status = 'warn';
        issues.push(`PING round trip ${ms(pingMs)} > ${o.slowRoundTripMs}ms`);
      }
      const details: Record<string, unknown> = {
        target,
        connectionStatus: 'connected',
        pingMs: round(pingMs),
        ...(writeMs !== undefined ? { setGetDelMs: round(writeMs) } : {}),
      };
      if (info !== undefined) {
        const { used, max, utilization } = memoryOf(info);
        Object.assign(details, {
          version: info.redis_version,
          role: info.role,
          uptimeSeconds: infoNumber(info.uptime_in_seconds),
          usedMemoryBytes: used,
          usedMemory: used !== undefined ? bytes(used) : undefined,
          // 0 means no limit: Redis grows until the host or container runs out.
          maxMemoryBytes: max,
          maxMemoryPolicy: info.maxmemory_policy,
          memoryUtilization: utilization !== undefined ? round(utilization, 4) : undefined,
          connectedClients: infoNumber(info.connected_clients),
          blockedClients: infoNumber(info.blocked_clients),
          maxClients: infoNumber(info.maxclients),
        });
        if (utilization !== undefined && utilization >= o.memoryWarnRatio) {
          status = 'warn';
          issues.push(`memory ${percent(utilization)} of maxmemory (policy ${info.maxmemory_policy ?? 'unknown'})`);
        }
      } else {
        details.infoError = infoError;
      }
      return responseTimeOutcome(base, status, pingMs, issues, details);
    } catch (err) {
      return failed(errorMessage(err, secrets));
    } finally {
      // A run cut short may leave a command in flight on our connection: drop it, the next run
      // reconnects. The app's client is never touched.
      if (signal.aborted && own !== undefined) drop(own);
      dl.dispose();
    }
  }

  return responseTimeCheck(o, 'redis', run, async () => {
    const c = own;
    own = undefined;
    // Not quit(): it waits for a reply a hung server never sends.
    if (c !== undefined) drop(c);
  });
}

/** No connection and no attempt under way: `connect()` may be called. */
function idle(client: Redis): boolean {
  return client.status === 'wait' || client.status === 'end';
}

/**
 * Closes a connection or attempt. Only when there is one: ioredis sets a "manually closing" flag
 * that only a close event clears, and while set it hides the next attempt's connect errors.
 */
function drop(client: Redis): void {
  if (idle(client)) return;
  client.disconnect();
  // disconnect() only half-closes and waits `disconnectTimeout` for the server's FIN, which a
  // hung server never sends: destroy now so no socket or timer outlives the run.
  (client.stream as { destroy?: () => void } | undefined)?.destroy?.();
}

/** Resolves once the client has no connection (after `drop`), so it can connect again. */
function closed(client: Redis): Promise<void> {
  drop(client);
  if (idle(client)) return Promise.resolve();
  return new Promise((resolve) => client.once('end', () => resolve()));
}

function describeTarget(options: RedisCheckOptions): string {
  if (options.url !== undefined) return redactUrl(options.url);
  const co = options.client?.options;
  const user = co?.username ? `${co.username}@` : '';
  return `redis://${user}${co?.host ?? 'localhost'}:${co?.port ?? 6379}/${co?.db ?? 0}`;
}
