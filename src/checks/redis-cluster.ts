import { Cluster, type Redis } from 'ioredis';
import { abortable, deadline } from './abort';
import { bytes, ms, percent, round } from './format';
import { checkOptions } from './options';
import { responseTimeCheck, responseTimeOutcome } from './response-time';
import { errorMessage, redactUrl, urlSecrets } from './redact';
import { REDIS_DEFAULTS } from './redis';
import { infoNumber, memoryOf, parseInfo, writeRoundTrip } from './redis-probes';
import type { CheckOutcome, CheckStatus, DependencyCheck } from './types';

export interface RedisClusterCheckOptions {
  /** Check name. Default `redis`. */
  readonly name?: string;
  /** Seed nodes (`redis://` or `rediss://` URLs) for the check's own cluster client, when `client` is not given. */
  readonly nodes?: readonly string[];
  /** The app's cluster client: probed as is, never reconnected or closed by the check. */
  readonly client?: Cluster;
  readonly required?: boolean;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  /** Slowest master's PING round trip above which the check warns. Default 500 ms. */
  readonly slowRoundTripMs?: number;
  /** used_memory / maxmemory of any master from which the check warns. Default 0.9. */
  readonly memoryWarnRatio?: number;
  /** Whether to prove writes with SET/GET/DEL on `chatpulse:health:<random>`. Default true. */
  readonly writeCheck?: boolean;
}

/** One master as CLUSTER NODES lists it. */
interface ClusterMaster {
  readonly address: string;
  readonly flags: string;
  readonly linkState: string;
  readonly slots: number;
}

/** Masters from CLUSTER NODES: `<id> <ip:port@cport[,host]> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`. */
export function parseClusterMasters(text: string): ClusterMaster[] {
  const out: ClusterMaster[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(' ');
    if (f.length < 8 || !f[2]!.split(',').includes('master')) continue;
    let slots = 0;
    for (const range of f.slice(8)) {
      if (range.startsWith('[')) continue; // a slot being imported or migrated
      const [lo, hi = lo] = range.split('-').map(Number);
      if (Number.isInteger(lo) && Number.isInteger(hi)) slots += hi! - lo! + 1;
    }
    out.push({ address: f[1]!.split('@')[0]!, flags: f[2]!, linkState: f[7]!, slots });
  }
  return out;
}

const addressOf = (node: Redis): string => `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`;

/**
 * Redis Cluster: every master answers PING, the cluster reports `cluster_state:ok` and no master
 * that serves slots is flagged failed or disconnected, a SET/GET/DEL round trip, and memory per
 * master. Like the single-node check, its own client never reconnects in the background, never
 * keeps the process alive, and the app's client is never reconnected or closed.
 */
export function redisClusterCheck(options: RedisClusterCheckOptions): DependencyCheck {
  if (options.client === undefined && (options.nodes === undefined || options.nodes.length === 0)) {
    throw new TypeError('redisClusterCheck: give nodes (seed URLs) or a client');
  }
  const o = checkOptions('redisClusterCheck', REDIS_DEFAULTS, options);
  const appClient = options.client;
  const secrets = (options.nodes ?? []).flatMap((u) => urlSecrets(u));
  const target = options.nodes !== undefined ? options.nodes.map((u) => redactUrl(u)).join(',') : 'app cluster client';
  let own: Cluster | undefined;
  let lastError: string | undefined;

  function ownClient(): Cluster {
    if (own === undefined) {
      const seeds = options.nodes!.map((raw) => {
        const u = new URL(raw);
        return { host: u.hostname, port: u.port === '' ? 6379 : Number(u.port) };
      });
      const first = new URL(options.nodes![0]!);
      const c = new Cluster(seeds, {
        lazyConnect: true,
        enableOfflineQueue: false,
        // No background reconnect loop: the next run reconnects, at the check's own pace.
        clusterRetryStrategy: () => null,
        // Connect even to a cluster that is down, so the run reports its cluster_state rather than a timeout.
        enableReadyCheck: false,
        slotsRefreshTimeout: o.timeoutMs,
        redisOptions: {
          connectTimeout: o.timeoutMs,
          commandTimeout: o.timeoutMs,
          maxRetriesPerRequest: 0,
          connectionName: 'chatpulse-health',
          ...(first.username !== '' ? { username: decodeURIComponent(first.username) } : {}),
          ...(first.password !== '' ? { password: decodeURIComponent(first.password) } : {}),
          ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
        },
      });
      c.on('error', (err: unknown) => {
        lastError = errorMessage(err, secrets);
      });
      // A health probe never keeps the process alive: unref every node connection.
      c.on('+node', (node: Redis) => {
        node.on('error', () => {});
        node.on('connect', () => (node.stream as { unref?: () => void } | undefined)?.unref?.());
      });
      own = c;
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
    try {
      let client: Cluster;
      if (appClient !== undefined) {
        client = appClient;
        if (client.status !== 'ready') return failed(`cluster client is not connected (status: ${client.status})`);
      } else {
        client = ownClient();
        if (client.status !== 'ready') {
          lastError = undefined;
          if (client.status !== 'wait' && client.status !== 'end') await step(closed(client));
          try {
            await step(client.connect());
          } catch (err) {
            drop(client);
            return failed(`cannot connect to the cluster: ${lastError ?? errorMessage(err, secrets)}`);
          }
        }
      }

      // Every master this client routes to, pinged at once: a dead one leaves its slots unserved.
      const pool = client.nodes('master');
      if (pool.length === 0) return failed('the client knows no master');
      const pings = await Promise.all(
        pool.map(async (node) => {
          const t0 = performance.now();
          try {
            await step(node.ping());
            return { node, address: addressOf(node), ms: performance.now() - t0 };
          } catch (err) {
            if (signal.aborted) throw err;
            return { node, address: addressOf(node), error: errorMessage(err, secrets) };
          }
        }),
      );
      const live = pings.filter((p) => p.error === undefined);
      const problems = pings.filter((p) => p.error !== undefined).map((p) => `master ${p.address} did not answer PING: ${p.error}`);
      if (live.length === 0) return failed(problems.join('; '));
      const slowest = Math.max(...live.map((p) => p.ms!));

      // The cluster's own view, from a master that answers.
      const probe = live[0]!.node;
      const clusterInfo = parseInfo(await step(probe.cluster('INFO') as Promise<string>));
      const masters = parseClusterMasters(await step(probe.cluster('NODES') as Promise<string>));
      for (const m of masters) {
        const down = m.flags.includes('fail') || m.linkState !== 'connected';
        if (down && m.slots > 0 && !problems.some((p) => p.includes(` ${m.address} `))) {
          problems.push(`master ${m.address} is ${m.flags.includes('fail') ? 'flagged failed' : 'disconnected'} and serves ${m.slots} slots`);
        }
      }
      const state = clusterInfo.cluster_state ?? 'unknown';
      if (state !== 'ok') problems.unshift(`cluster_state is ${state}`);

      let writeMs: number | undefined;
      if (o.writeCheck && problems.length === 0) {
        const write = await writeRoundTrip(client, step, o.timeoutMs, secrets);
        if (write.problem !== undefined) problems.push(write.problem);
        writeMs = write.ms;
      }

      // Memory per live master (INFO is diagnostics: a managed cluster that disables it still passes).
      const memory = await Promise.all(
        live.map(async ({ node, address }) => {
          try {
            const info = parseInfo(await step(node.info('memory')));
            return { address, ...memoryOf(info), policy: info.maxmemory_policy };
          } catch (err) {
            if (signal.aborted) throw err;
            return { address, infoError: errorMessage(err, secrets) };
          }
        }),
      );

      const details: Record<string, unknown> = {
        target,
        connectionStatus: problems.length === 0 ? 'connected' : 'degraded',
        clusterState: state,
        slotsAssigned: infoNumber(clusterInfo.cluster_slots_assigned),
        slotsOk: infoNumber(clusterInfo.cluster_slots_ok),
        knownNodes: infoNumber(clusterInfo.cluster_known_nodes),
        masters: masters.length,
        slowestPingMs: round(slowest),
        ...(writeMs !== undefined ? { setGetDelMs: round(writeMs) } : {}),
        nodes: memory.map((m) => ({
          address: m.address,
          pingMs: round(live.find((p) => p.address === m.address)!.ms!),
          ...('infoError' in m
            ? { infoError: m.infoError }
            : {
                usedMemory: m.used !== undefined ? bytes(m.used) : undefined,
                maxMemoryBytes: m.max,
                memoryUtilization: m.utilization !== undefined ? round(m.utilization, 4) : undefined,
              }),
        })),
      };
      if (problems.length > 0) return responseTimeOutcome(base, 'fail', slowest, problems, details);

      const issues: string[] = [];
      let status: CheckStatus = 'pass';
      if (slowest > o.slowRoundTripMs) {
        status = 'warn';
        issues.push(`slowest master PING ${ms(slowest)} > ${o.slowRoundTripMs}ms`);
      }
      for (const m of memory) {
        if ('utilization' in m && m.utilization !== undefined && m.utilization >= o.memoryWarnRatio) {
          status = 'warn';
          issues.push(`master ${m.address} memory ${percent(m.utilization)} of maxmemory (policy ${m.policy ?? 'unknown'})`);
        }
      }
      return responseTimeOutcome(base, status, slowest, issues, details);
    } catch (err) {
      return failed(errorMessage(err, secrets));
    } finally {
      // A run cut short may leave commands in flight on our connections: drop them, the next run reconnects.
      if (signal.aborted && own !== undefined) drop(own);
      dl.dispose();
    }
  }

  return responseTimeCheck(o, 'redis', run, async () => {
    const c = own;
    own = undefined;
    if (c !== undefined) drop(c);
  });
}

/** Closes every node connection now (a hung node never sends the FIN a graceful close waits for). */
function drop(client: Cluster): void {
  if (client.status === 'wait' || client.status === 'end') return;
  const nodes = client.nodes('all');
  client.disconnect();
  for (const n of nodes) (n.stream as { destroy?: () => void } | undefined)?.destroy?.();
}

function closed(client: Cluster): Promise<void> {
  drop(client);
  if (client.status === 'wait' || client.status === 'end') return Promise.resolve();
  return new Promise((resolve) => client.once('end', () => resolve()));
}
