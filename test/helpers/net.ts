import { Socket, createServer, type Server } from 'node:net';

/** A port nothing listens on (bound then released), so connecting is refused at once. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A server that accepts connections and never answers: a hung dependency. */
export class HungServer {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((socket) => {
    this.connections++;
    this.sockets.add(socket);
    socket.on('error', () => {});
    // Reading (and discarding) notices a client's close; a stopped process reads nothing.
    if (this.reads) socket.resume();
    socket.on('close', () => this.sockets.delete(socket));
  });
  connections = 0;
  port = 0;

  /** `reads: false` is a frozen process: the kernel accepts, nobody reads, no FIN ever comes back. */
  constructor(private readonly reads = true) {}

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** Connections still open (a client that gave up closes its socket). */
  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * A proxy's upstream socket for `client`, both kept in `open` while they live and torn down
 * together: either side closing closes the other, and socket errors stay the proxy's.
 */
export function pairSockets(client: Socket, open: Set<Socket>): Socket {
  const upstream = new Socket();
  for (const s of [client, upstream]) {
    open.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      open.delete(s);
      client.destroy();
      upstream.destroy();
    });
  }
  return upstream;
}

/** A TCP proxy to a real service that can be taken down and brought back on the same port. */
export class ToggleProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async up(): Promise<this> {
    const server = createServer((client) => {
      const upstream = pairSockets(client, this.sockets);
      upstream.connect(this.targetPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}
