// The soak's client side: requests to the service paced to the run's rate and spread round-robin over
// the instances that are up (no proxy to install), every answer counted; and each member's socket,
// reconnecting with auth.lastEventId as the app does whenever it loses its connection.
import { io, type Socket } from 'socket.io-client';
import type { Instance } from './environment';
import { sleep } from './wait';

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON answers, read field by field by the load
  instance?: string;
}

/** A 5xx the service gave, kept with when and where, to be judged against the fault windows at the end. */
export interface ServerError {
  at: number;
  label: string;
  status: number;
  code?: string;
  instance?: string;
}

export class Stats {
  requests = 0;
  /** label → status → count */
  readonly byLabel = new Map<string, Map<number, number>>();
  readonly serverErrors: ServerError[] = [];
  /** Requests that found no instance listening, or lost their connection (an instance killed under them). */
  connectionErrors = 0;
  /** Requests the soak gave up on after retries (no answer at all). */
  unanswered = 0;
  /** Requests under way: id → what and since when (the oldest are shown when they take long). */
  readonly inFlight = new Map<number, { label: string; instance: string; since: number }>();
  private nextId = 0;

  begin(label: string, instance: string): number {
    const id = this.nextId++;
    this.inFlight.set(id, { label, instance, since: Date.now() });
    return id;
  }

  /** The oldest request under way, when it has taken longer than `ms`. */
  stuck(ms: number): string | undefined {
    let oldest: { label: string; instance: string; since: number } | undefined;
    for (const r of this.inFlight.values()) if (!oldest || r.since < oldest.since) oldest = r;
    if (!oldest || Date.now() - oldest.since < ms) return undefined;
    return `${oldest.label} on ${oldest.instance} for ${Math.round((Date.now() - oldest.since) / 1000)} s`;
  }

  count(label: string, status: number): void {
    this.requests++;
    let m = this.byLabel.get(label);
    if (!m) this.byLabel.set(label, (m = new Map()));
    m.set(status, (m.get(status) ?? 0) + 1);
  }

  table(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [label, m] of [...this.byLabel].sort()) out[label] = Object.fromEntries([...m].sort(([a], [b]) => a - b));
    return out;
  }
}

/** Spaces requests evenly at `rate` a second: a steady load, whatever the members do. */
export class Pacer {
  private next = Date.now();
  constructor(private readonly rate: number) {}
  async take(): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.rate;
    if (at > now) await sleep(at - now);
  }
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again after a lost connection (a read, or a write with an Idempotency-Key). */
  retry?: boolean;
  paced?: boolean;
}

export class ServiceClient {
  private turn = 0;
  constructor(
    private readonly instances: Instance[],
    private readonly pacer: Pacer,
    readonly stats: Stats,
  ) {}

  /** The next instance that is up, round-robin; waits (bounded) while none is. */
  async pick(): Promise<Instance> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      for (let i = 0; i < this.instances.length; i++) {
        const inst = this.instances[this.turn++ % this.instances.length];
        if (inst.up) return inst;
      }
      if (Date.now() > deadline) throw new Error('no instance of the service came up within 180 s');
      await sleep(200);
    }
  }

  async request(method: string, path: string, label: string, opts: RequestOptions = {}): Promise<Answer> {
    for (let attempt = 0; attempt < 6; attempt++) {
      if (opts.paced !== false) await this.pacer.take();
      const inst = await this.pick();
      let res: Response;
      const id = this.stats.begin(label, inst.name);
      try {
        res = await fetch(`${inst.url}${path}`, {
          method,
          headers: {
            ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            ...opts.headers,
          },
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: AbortSignal.timeout(60_000),
        });
      } catch {
        // Refused or reset: the instance was killed under the request. The answer is unknown, so
        // only what may be sent twice is sent again, to the next instance.
        this.stats.inFlight.delete(id);
        this.stats.connectionErrors++;
        if (!opts.retry) {
          this.stats.unanswered++;
          return { status: 0, body: null, instance: inst.name };
        }
        await sleep(200);
        continue;
      }
      const text = await res.text().catch(() => '');
      this.stats.inFlight.delete(id);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      this.stats.count(label, res.status);
      if (res.status >= 500) {
        this.stats.serverErrors.push({
          at: Date.now(),
          label,
          status: res.status,
          code: (body as { code?: string } | null)?.code,
          instance: inst.name,
        });
      }
      return { status: res.status, body, instance: inst.name };
    }
    this.stats.unanswered++;
    return { status: 0, body: null };
  }
}

export interface ReceivedEvent {
  event: string;
  id: string;
  order_no?: string;
}

/** A member's app: one socket, the events it heard, the last id, reconnecting on its own. */
export class MemberSocket {
  socket?: Socket;
  readonly received: ReceivedEvent[] = [];
  /** order_no → event types heard for it */
  readonly heard = new Map<string, Set<string>>();
  lastEventId?: string;
  reconnects = 0;
  /** Handshakes refused (connect_error) or timed out. */
  refusals = 0;
  private closing = false;
  private connecting?: Promise<void>;

  constructor(
    private readonly client: ServiceClient,
    private readonly token: string,
  ) {}

  connect(): Promise<void> {
    this.connecting ??= this.connectLoop().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectLoop(): Promise<void> {
    let pause = 500;
    while (!this.closing) {
      let inst: Instance;
      try {
        inst = await this.client.pick();
      } catch {
        // No instance up for minutes: the run reports that elsewhere; this member keeps trying.
        await sleep(1_000);
        continue;
      }
      const ok = await this.open(inst.url);
      if (ok) return;
      this.refusals++;
      // Backing off as an app does, so a refusing service is not hammered by every member at once.
      await sleep(pause + Math.random() * pause);
      pause = Math.min(pause * 2, 8_000);
    }
  }

  private open(url: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = io(url, {
        path: '/socket.io',
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        // Before its first event a member still asks from 0 (the replay window holds nothing of
        // its before this run): without lastEventId a connection hears live events only, so one
        // that dropped before the member heard anything would miss what was committed meanwhile.
        auth: { token: this.token, lastEventId: this.lastEventId ?? '0' },
        timeout: 10_000,
      });
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) {
          socket.removeAllListeners();
          socket.disconnect();
        }
        resolve(ok);
      };
      // socket.io's `timeout` bounds only the opening of the transport. A handshake the server has
      // not answered (its middleware waiting, an instance stopped under it) ends in neither
      // `connect` nor `connect_error`: without this bound the member would wait for ever, deaf.
      const timer = setTimeout(() => settle(false), 20_000);
      socket.onAny((event: string, message: { id?: string; order_no?: string }) => {
        if (!message?.id) return;
        this.received.push({ event, id: message.id, order_no: message.order_no });
        if (message.order_no) {
          let s = this.heard.get(message.order_no);
          if (!s) this.heard.set(message.order_no, (s = new Set()));
          s.add(event);
        }
        if (!this.lastEventId || BigInt(message.id) > BigInt(this.lastEventId)) this.lastEventId = message.id;
      });
      socket.once('connect', () => {
        if (settled) return;
        this.socket = socket;
        socket.once('disconnect', () => {
          if (this.closing) return;
          this.reconnects++;
          void this.connect();
        });
        settle(true);
      });
      socket.once('connect_error', () => settle(false));
      // The transport closed before the handshake was answered (the server gave up on it): no
      // `connect_error` follows.
      socket.once('disconnect', () => settle(false));
    });
  }

  /** Drops the connection and comes back with lastEventId, as an app back from the background. */
  async reconnect(): Promise<void> {
    const old = this.socket;
    this.socket = undefined;
    old?.removeAllListeners('disconnect');
    old?.disconnect();
    this.reconnects++;
    await this.connect();
  }

  close(): void {
    this.closing = true;
    this.socket?.disconnect();
  }
}
