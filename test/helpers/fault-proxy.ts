import { createServer, type Server, type Socket } from 'node:net';
import { pairSockets } from './net';

/**
 * A TCP proxy in front of a real service that injects faults, switchable at any time:
 *
 *   pass    forwards both ways
 *   slow    holds every chunk from the service for `delayMs` before passing it on
 *   reset   destroys every client connection as soon as it sends anything (ECONNRESET)
 *   hang    accepts connections and never answers: nothing is passed either way (a hung server)
 *   down    not listening: connections are refused
 *
 * The mode is read per chunk, so keep-alive connections opened in one mode obey the next.
 */
export type FaultMode = 'pass' | 'slow' | 'reset' | 'hang' | 'down';

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  mode: FaultMode = 'pass';
  delayMs = 0;
  /** Prometheus instant queries (`GET /api/v1/query?`) that went through. */
  queries = 0;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    await this.listen();
    return this;
  }

  /** Switches mode; `down` closes the port (and every connection), leaving it brings it back. */
  async set(mode: FaultMode, delayMs = this.delayMs): Promise<void> {
    this.delayMs = delayMs;
    if (mode === 'down' && this.server !== undefined) await this.close();
    if (mode !== 'down' && this.server === undefined) await this.listen();
    this.mode = mode;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = pairSockets(client, this.sockets);
      upstream.connect(this.targetPort, '127.0.0.1');
      client.on('data', (d) => {
        if (this.mode === 'reset') return void client.resetAndDestroy();
        if (this.mode === 'hang') return;
        this.queries += d.toString('latin1').split('GET /api/v1/query?').length - 1;
        upstream.write(d);
      });
      upstream.on('data', (d) => {
        if (this.mode === 'hang') return;
        if (this.mode !== 'slow' || this.delayMs <= 0) return void client.write(d);
        setTimeout(() => {
          if (!client.destroyed) client.write(d);
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }
}
