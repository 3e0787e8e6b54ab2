import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';
import { markInternalServer } from '../../instrumentation/hooks/internal-server';

export interface HealthServer {
  readonly server: http.Server;
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/**
 * Serves the health router on its own port. The server is marked internal (its requests are not
 * the app's traffic) and unref'd (it never keeps the host process alive).
 */
export function listenHealthServer(router: Router, port: number, host: string): Promise<HealthServer> {
  const app = express();
  app.disable('x-powered-by');
  app.use(router);
  const server = markInternalServer(http.createServer(app));
  // Pollers reuse connections; keep them a little longer than a typical 5 s poll interval.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.unref();
      resolve({
        server,
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
