import type { ModuleTarget } from '../hooks/module-patcher';
import { safely } from '../hooks/safely';

const kPatched = Symbol.for('chatpulse.sdk.prometheus.patched');

/**
 * The app's own PrometheusExporter binds its port in its constructor, before its MeterProvider
 * exists, and by default on the same port as Chatpulse's default endpoint (9464, or
 * OTEL_EXPORTER_PROMETHEUS_PORT, which both read). Just before it binds, Chatpulse's default
 * endpoint is told to stand down; closing a listening server frees its port at once, so the
 * app's exporter always wins the port and the app's monitoring keeps working as before.
 */
export function yieldPrometheusPort(standDown: (reason: string) => void): ModuleTarget {
  return {
    file: '@opentelemetry/exporter-prometheus/build/src/PrometheusExporter.js',
    patch(moduleExports) {
      const proto = (moduleExports as { PrometheusExporter?: { prototype?: Record<PropertyKey, unknown> } }).PrometheusExporter?.prototype;
      if (proto === undefined || typeof proto.startServer !== 'function' || proto[kPatched]) return undefined;
      const original = proto.startServer as (this: unknown, ...args: unknown[]) => unknown;
      const startServer = function (this: unknown, ...args: unknown[]) {
        safely(standDown, "the app's own PrometheusExporter starts its server");
        return original.apply(this, args);
      };
      proto.startServer = startServer;
      proto[kPatched] = true;
      return () => {
        if (proto.startServer === startServer) proto.startServer = original;
        delete proto[kPatched];
      };
    },
  };
}
