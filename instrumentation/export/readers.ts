import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { InstrumentationConfig } from '../config/env';
import { markInternalServer } from '../hooks/internal-server';
import { log } from '../log';
import { ChatpulseMetricProducer } from '../metrics/producer';
import { trackExports } from './export-health';
import { kOwnReader } from '../sdk/app-readers';
import type { ProcessSampler } from '../metrics/process-metrics';
import type { Recorder } from '../metrics/recorder';

/** Where Chatpulse's own Prometheus endpoint stands, for the health service to report. */
export interface EndpointStatus {
  readonly state: 'starting' | 'listening' | 'unavailable' | 'stood down' | 'closed';
  readonly host: string;
  readonly port: number;
  /** Why it is unavailable (the listen error's code) or stood down. */
  readonly reason?: string;
}

export interface PrometheusEndpoint {
  readonly server: http.Server;
  /** Resolves with the bound address once listening, or undefined when the port could not be bound. */
  readonly listening: Promise<AddressInfo | undefined>;
  status(): EndpointStatus;
  /** Gives the port up at once (a listening server's port is free when this returns), or never binds it. */
  standDown(reason: string): void;
  close(): void;
}

/** Marks a reader as Chatpulse's own, so joining the app's readers leaves it alone. */
function own<R extends MetricReader>(reader: R): R {
  (reader as { [kOwnReader]?: true })[kOwnReader] = true;
  return reader;
}

export interface Readers {
  readonly readers: MetricReader[];
  readonly prometheus?: PrometheusEndpoint;
  /** Readers that push, and so need a flush before the process ends. */
  readonly pushing: boolean;
  /** Destroys in-flight pushes: a hung collector must not hold the process past the shutdown bound. */
  abortInFlight(): void;
}

/**
 * Export connections we own. Their sockets are unref'd, so a periodic export stuck on a hung
 * collector never keeps the host process alive; shutdown holds the loop itself, for a bounded
 * time, while the final export runs, and then cuts whatever is still in flight.
 */
function exportAgents() {
  type Socketish = { unref(): Socketish; destroy(err?: Error): void };
  let closed = false;
  // A code the OTLP transport does not retry, so a cut export ends instead of backing off.
  const shutdownError = () => Object.assign(new Error('chatpulse shut down: export abandoned'), { code: 'ECHATPULSESHUTDOWN' });
  const unref = <A extends http.Agent>(agent: A): A => {
    const a = agent as unknown as {
      createConnection: (...args: unknown[]) => Socketish;
      reuseSocket: (socket: Socketish, req: unknown) => void;
    };
    const create = a.createConnection.bind(a);
    a.createConnection = (...args: unknown[]) => {
      const socket = create(...args).unref();
      if (closed) socket.destroy(shutdownError());
      return socket;
    };
    const reuse = a.reuseSocket.bind(a);
    // Node re-refs a pooled socket when it is reused for a request.
    a.reuseSocket = (socket, req) => {
      reuse(socket, req);
      socket.unref();
    };
    return agent;
  };
  const agents = [unref(new http.Agent({ keepAlive: true })), unref(new https.Agent({ keepAlive: true }))] as const;
  return {
    factory: (protocol: string): http.Agent => (protocol === 'https:' ? agents[1] : agents[0]),
    destroy: () => {
      closed = true;
      for (const agent of agents) {
        for (const list of Object.values(agent.sockets)) for (const socket of list ?? []) socket.destroy(shutdownError());
        agent.destroy();
      }
    },
  };
}

/**
 * The Prometheus exporter's own server would keep the host process alive after SIGTERM, so it is
 * told not to start and its handler is served from a server of ours that is unref'd.
 */
function prometheusReader(config: InstrumentationConfig, recorder: Recorder, sampler: ProcessSampler) {
  const exporter = own(new PrometheusExporter({
    preventServerStart: true,
    metricProducers: [new ChatpulseMetricProducer(recorder, 'cumulative', sampler)],
    // Every series carries service_name, as it does behind a Collector's Prometheus exporter.
    withResourceConstantLabels: /^service\.name$/,
  }));
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/metrics' || path === '/')) {
      exporter.getMetricsRequestHandler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
  });
  markInternalServer(server);
  const { host, port } = config.prometheus;
  let status: EndpointStatus = { state: 'starting', host, port };
  const release = () => {
    server.close();
    server.closeAllConnections?.();
  };
  const listening = new Promise<AddressInfo | undefined>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve(undefined);
      // Standing down before the bind finished: the port is the app's exporter's now, as intended.
      if (status.state !== 'starting') return;
      const code = err.code ?? err.message;
      status = { state: 'unavailable', host, port, reason: code };
      log.warn(
        `Prometheus endpoint could not listen on ${host}:${port} (${code}); metrics are not served. ` +
          `Set OTEL_EXPORTER_PROMETHEUS_PORT to a free port, or OTEL_METRICS_EXPORTER=otlp (or none) if another exporter serves them`,
      );
    });
    server.listen(port, host, () => {
      // A stand-down that came while the address was being looked up: give the port back now.
      if (status.state !== 'starting') {
        release();
        resolve(undefined);
        return;
      }
      status = { state: 'listening', host, port };
      resolve(server.address() as AddressInfo);
    });
  });
  server.unref();
  const endpoint: PrometheusEndpoint = {
    server,
    listening,
    status: () => status,
    standDown(reason) {
      if (status.state !== 'starting' && status.state !== 'listening') return;
      status = { state: 'stood down', host, port, reason };
      release();
    },
    close() {
      if (status.state === 'starting' || status.state === 'listening') status = { state: 'closed', host, port };
      release();
    },
  };
  return { reader: exporter, endpoint };
}

function otlpReader(
  config: InstrumentationConfig,
  recorder: Recorder,
  sampler: ProcessSampler,
  agentFactory: (protocol: string) => http.Agent,
): MetricReader {
  // Loaded only when OTLP is configured: the exporters and their transformer are ~70 modules.
  const otlpHttp = require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http');
  const { AggregationTemporalityPreference } = otlpHttp;
  const o = config.otlp;
  const preference =
    o.temporality === 'delta'
      ? AggregationTemporalityPreference.DELTA
      : o.temporality === 'lowmemory'
        ? AggregationTemporalityPreference.LOWMEMORY
        : AggregationTemporalityPreference.CUMULATIVE;
  const options = {
    url: o.url,
    headers: { ...o.headers },
    timeoutMillis: o.timeoutMillis,
    compression: o.compression,
    temporalityPreference: preference,
    httpAgentOptions: agentFactory,
  } as ConstructorParameters<typeof OTLPJsonMetricExporter>[0];
  const Exporter =
    o.protocol === 'http/json'
      ? otlpHttp.OTLPMetricExporter
      : (require('@opentelemetry/exporter-metrics-otlp-proto') as typeof import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter;
  const exporter = new Exporter(options);
  // Chatpulse's series are all of the synchronous kind, for which both delta and lowmemory mean delta.
  const temporality = o.temporality === 'cumulative' ? 'cumulative' : 'delta';
  return own(new PeriodicExportingMetricReader({
    // Tracked: a refusing or hung collector is warned about and shown on /api/v1/health.
    exporter: trackExports(exporter, 'OTLP', o.url),
    exportIntervalMillis: config.exportIntervalMillis,
    exportTimeoutMillis: Math.min(config.exportTimeoutMillis, config.exportIntervalMillis),
    metricProducers: [new ChatpulseMetricProducer(recorder, temporality, sampler)],
  }));
}

export function createReaders(config: InstrumentationConfig, recorder: Recorder, sampler: ProcessSampler): Readers {
  const readers: MetricReader[] = [];
  let prometheus: PrometheusEndpoint | undefined;
  let pushing = false;
  const agents = exportAgents();
  for (const name of config.exporters) {
    if (name === 'prometheus') {
      const p = prometheusReader(config, recorder, sampler);
      readers.push(p.reader);
      prometheus = p.endpoint;
    } else if (name === 'otlp') {
      readers.push(otlpReader(config, recorder, sampler, agents.factory));
      pushing = true;
    } else {
      readers.push(
        own(
          new PeriodicExportingMetricReader({
            exporter: new ConsoleMetricExporter(),
            exportIntervalMillis: config.exportIntervalMillis,
            metricProducers: [new ChatpulseMetricProducer(recorder, 'cumulative', sampler)],
          }),
        ),
      );
      pushing = true;
    }
  }
  return { readers, prometheus, pushing, abortInFlight: agents.destroy };
}
