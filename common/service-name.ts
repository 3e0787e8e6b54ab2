/**
 * The service name the health service reports (serviceId, the status page's title) when none is
 * given: OTEL_SERVICE_NAME, as for the metrics, else `chatbot`.
 */
export function defaultServiceName(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.OTEL_SERVICE_NAME ?? 'chatbot';
}
