import type { DeliverableEvent } from '../outbox/order-events';

/** Ids remembered per connection to drop repeats; older ones fold into the floor. */
const REMEMBERED_IDS = 256;

const byId = (a: DeliverableEvent, b: DeliverableEvent) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);

/**
 * What one connection has been sent. A reconnecting client is in the user's room before its
 * missed events are read, so nothing committed in between is lost; live events that arrive
 * during that read are held and follow the replay in id order, and an event found both ways
 * is sent once.
 */
export class EventStream {
  private held: DeliverableEvent[] | null;
  private readonly sent = new Set<string>();
  /** Everything at or below this id counts as seen: the client's lastEventId, then pruned ids. */
  private floor: bigint;

  constructor(
    lastEventId: bigint | null,
    private readonly send: (event: DeliverableEvent) => void,
  ) {
    this.floor = lastEventId ?? -1n;
    this.held = lastEventId === null ? null : [];
  }

  /** A live event: sent now, or held until the replay has been sent. */
  offer(event: DeliverableEvent): void {
    if (this.held) this.held.push(event);
    else this.emit(event);
  }

  /** Missed events read from the outbox, oldest first. */
  replay(events: DeliverableEvent[]): void {
    for (const event of events) this.emit(event);
  }

  /**
   * Events read again from the outbox because they may have been lost on their way from another
   * instance: those not sent yet go out in id order (held, like live events, while the connection's
   * own replay is still under way); those already sent are dropped. Returns how many were new.
   */
  catchUp(events: DeliverableEvent[]): number {
    let fresh = 0;
    for (const event of [...events].sort(byId)) {
      if (this.seen(event)) continue;
      fresh++;
      this.offer(event);
    }
    return fresh;
  }

  /** Ends the replay: the live events held meanwhile follow, in id order, minus those already sent. */
  endReplay(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const event of held.sort(byId)) this.emit(event);
  }

  private seen(event: DeliverableEvent): boolean {
    return BigInt(event.id) <= this.floor || this.sent.has(event.id);
  }

  private emit(event: DeliverableEvent): void {
    if (this.seen(event)) return;
    this.sent.add(event.id);
    if (this.sent.size > REMEMBERED_IDS) this.forgetOldest();
    this.send(event);
  }

  private forgetOldest(): void {
    let oldest: bigint | null = null;
    for (const id of this.sent) if (oldest === null || BigInt(id) < oldest) oldest = BigInt(id);
    this.sent.delete(String(oldest));
    this.floor = oldest!;
  }
}
