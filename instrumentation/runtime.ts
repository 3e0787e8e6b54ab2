import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import type { AddressInfo } from 'node:net';
import type { InstrumentationConfig } from './config/env';
import { createReaders, type EndpointStatus } from './export/readers';
import { installFetchHook } from './genai/fetch-hook';
import { installHttpClientHook } from './genai/http-client-hook';
import { installHttpHook } from './hooks/http';
import { ioredisTarget } from './hooks/ioredis';
import { patchModules, type ModuleTarget } from './hooks/module-patcher';
import { pgTarget } from './hooks/pg';
import { log } from './log';
import { ProcessSampler } from './metrics/process-metrics';
import { Recorder } from './metrics/recorder';
import { joinAppReaders } from './sdk/app-readers';
import { ioredisDiscoveryTargets } from './discovery/ioredis';
import { pgDiscoveryTarget } from './discovery/pg';
import { globalDependencies } from './discovery/registry';
import { yieldPrometheusPort } from './sdk/prometheus-yield';
import { settleWithin } from '../common/timeout';

/** A started Chatpulse instrumentation: hooks installed, readers exporting. */
export interface Runtime {
  readonly config: InstrumentationConfig;
  readonly recorder: Recorder;
  readonly sampler: ProcessSampler;
  readonly meterProvider: MeterProvider | undefined;
  /** Where the Prometheus scrape endpoint listens, once bound. */
  readonly prometheusAddress: Promise<AddressInfo | undefined>;
  /** Chatpulse's own Prometheus endpoint now (undefined when none is configured). */
  prometheusStatus(): EndpointStatus | undefined;
  /** The app has OpenTelemetry metric readers of its own, and Chatpulse's metrics go through them. */
  joinedAppSdk(): boolean;
  forceFlush(): Promise<void>;
  /** Flushes push exporters (bounded by `shutdownTimeoutMillis`), closes servers, removes hooks. */
  shutdown(): Promise<void>;
}

const kRecorder = Symbol.for('chatpulse.recorder');
const kRuntime = Symbol.for('chatpulse.runtime');
type Globals = typeof globalThis & { [kRecorder]?: Recorder; [kRuntime]?: Runtime };

/**
 * The process-wide recorder. Kept on globalThis so that the `--require` hook and the app's own
 * `import 'chatpulse'` share it even if the package is loaded twice (CJS and ESM, or two copies).
 */
export function globalRecorder(config?: InstrumentationConfig): Recorder {
  const g = globalThis as Globals;
  return (g[kRecorder] ??= new Recorder(config?.limits));
}

export function currentRuntime(): Runtime | undefined {
  return (globalThis as Globals)[kRuntime];
}

/** Resolves true when `p` settled in time, false when the bound ran out first; a failure is logged. */
function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  p.catch((err: unknown) => log.warn(`flush failed: ${(err as Error)?.message ?? String(err)}`));
  return settleWithin(p, ms);
}

export interface StartOptions {
  /** Install the automatic HTTP, ioredis and pg hooks (default: as configured). */
  readonly hooks?: boolean;
}

/** Starts the instrumentation once per process; a second call returns the running instance. */
export function startRuntime(config: InstrumentationConfig, options: StartOptions = {}): Runtime {
  const g = globalThis as Globals;
  const running = g[kRuntime];
  if (running !== undefined) return running;

  const recorder = globalRecorder(config);
  const sampler = new ProcessSampler();
  const undo: (() => void)[] = [];
  const { readers, prometheus, abortInFlight } = createReaders(config, recorder, sampler);
  let joined = false;
  let stoodDown = false;
  // Chatpulse's default exporter gives way to the app's own pipeline; one that was asked for stays.
  const standDown = (reason: string): void => {
    if (stoodDown || !config.defaultExporter || prometheus === undefined) return;
    stoodDown = true;
    prometheus.standDown(reason);
    void shutdownProvider();
    const { host, port } = prometheus.status();
    log.debug(`${reason}: Chatpulse's metrics go through the app's own OpenTelemetry readers; its default endpoint on ${host}:${port} stands down`);
  };
  const targets: ModuleTarget[] = [];
  if (options.hooks !== false) {
    if (config.hooks.http) undo.push(installHttpHook(recorder, config));
    if (config.hooks.genai) undo.push(installFetchHook(recorder), installHttpClientHook(recorder));
    if (config.hooks.ioredis) targets.push(ioredisTarget(recorder, config.cachePrefixes));
    if (config.hooks.pg) targets.push(pgTarget(recorder));
    if (config.discoverDependencies) targets.push(pgDiscoveryTarget(globalDependencies()), ...ioredisDiscoveryTargets(globalDependencies()));
  }
  if (config.joinAppSdk) {
    targets.push(
      joinAppReaders(recorder, sampler, {
        onAppReader: (name) => {
          joined = true;
          standDown(`the app's ${name} joined its MeterProvider`);
        },
      }),
      yieldPrometheusPort(standDown),
    );
  }

  const meterProvider =
    readers.length === 0
      ? undefined
      : new MeterProvider({
          resource: defaultResource().merge(
            detectResources({ detectors: [envDetector, processDetector, hostDetector, serviceInstanceIdDetector] }),
          ),
          readers,
        });

  let providerShutdown: Promise<void> | undefined;
  const shutdownProvider = (): Promise<void> => (providerShutdown ??= meterProvider?.shutdown() ?? Promise.resolve());
  if (targets.length > 0) undo.push(patchModules(targets));
  let shutdownPromise: Promise<void> | undefined;
  const runtime: Runtime = {
    config,
    recorder,
    sampler,
    meterProvider,
    prometheusAddress: prometheus?.listening ?? Promise.resolve(undefined),
    prometheusStatus: () => prometheus?.status(),
    joinedAppSdk: () => joined,
    forceFlush: async () => {
      if (providerShutdown === undefined) await withTimeout(meterProvider?.forceFlush() ?? Promise.resolve(), config.shutdownTimeoutMillis);
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        // Export sockets are unref'd; this ref'd timer holds the loop, for at most the bound, while
        // the final export runs, so it is not cut short by an otherwise empty loop.
        const hold = setTimeout(() => undefined, config.shutdownTimeoutMillis);
        const settled = await withTimeout(shutdownProvider(), config.shutdownTimeoutMillis);
        clearTimeout(hold);
        if (!settled) {
          log.warn(`final export did not finish within ${config.shutdownTimeoutMillis} ms (CHATPULSE_SHUTDOWN_TIMEOUT); dropped`);
          abortInFlight();
        }
        prometheus?.close();
        sampler.stop();
        for (const u of undo.splice(0).reverse()) u();
        if (g[kRuntime] === runtime) delete g[kRuntime];
      })();
      return shutdownPromise;
    },
  };
  g[kRuntime] = runtime;
  return runtime;
}
