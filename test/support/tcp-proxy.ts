import { createServer, Server, Socket, connect } from 'node:net';

/**
 * A TCP proxy the test controls, between the service and PostgreSQL: `cut()` drops every
 * connection and refuses new ones (the database "goes away" without stopping the machine's
 * PostgreSQL), `restore()` lets them through again.
 */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private down = false;
  private holding = false;
  private holdAfter?: Buffer;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (this.down) return client.destroy();
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      // Answers pass unless held: the server acts on what it was sent, its client never hears back.
      let held = false;
      client.on('data', (chunk: Buffer) => {
        if (this.holdAfter && chunk.includes(this.holdAfter)) held = true;
        upstream.write(chunk);
      });
      client.on('end', () => upstream.end());
      upstream.on('data', (chunk: Buffer) => {
        if (!this.holding && !held) client.write(chunk);
      });
      upstream.on('end', () => client.end());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as { port: number }).port;
    return this;
  }

  /** The same URL, through the proxy. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }

  /**
   * From now on, nothing the server answers reaches the client (dropped): a statement the client
   * sent still runs, and commits, on the server, but the client waits for its answer for ever.
   */
  holdReplies(): void {
    this.holding = true;
  }

  /**
   * Like holdReplies, but only on a connection once the client has sent these bytes (a prepared
   * statement's name travels in every Bind message): that statement runs, its answer never comes.
   */
  holdRepliesAfter(marker: string): void {
    this.holdAfter = Buffer.from(marker);
  }

  restore(): void {
    this.down = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
