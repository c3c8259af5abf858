import { EventStream } from './event-stream';
import type { DeliverableEvent } from '../outbox/order-events';

const event = (id: number): DeliverableEvent => ({ id: String(id), type: 'order.paid', userId: 'u', payload: { order_no: `o${id}` } });

function streamFrom(lastEventId: bigint | null) {
  const sent: string[] = [];
  return { sent, stream: new EventStream(lastEventId, (e) => sent.push(e.id)) };
}

describe('EventStream', () => {
  it('sends live events straight away when there is nothing to replay', () => {
    const { sent, stream } = streamFrom(null);
    stream.offer(event(7));
    stream.offer(event(9));
    expect(sent).toEqual(['7', '9']);
  });

  it('holds live events during the replay and sends them after it, in id order, once', () => {
    const { sent, stream } = streamFrom(3n);
    stream.offer(event(6)); // committed after the client joined, and also found by the replay
    stream.offer(event(8));
    stream.offer(event(7));
    expect(sent).toEqual([]);
    stream.replay([event(4), event(5), event(6)]);
    stream.endReplay();
    expect(sent).toEqual(['4', '5', '6', '7', '8']);
  });

  it('skips what the client already saw and repeats of what it was sent', () => {
    const { sent, stream } = streamFrom(5n);
    stream.replay([event(6)]);
    stream.endReplay();
    stream.offer(event(5));
    stream.offer(event(6));
    stream.offer(event(10));
    stream.offer(event(10));
    expect(sent).toEqual(['6', '10']);
  });

  it('still sends an event committed out of id order', () => {
    const { sent, stream } = streamFrom(null);
    stream.offer(event(11));
    stream.offer(event(10));
    expect(sent).toEqual(['11', '10']);
  });

  it('forgets the oldest ids past its memory without sending them again', () => {
    const { sent, stream } = streamFrom(null);
    for (let id = 1; id <= 300; id++) stream.offer(event(id));
    for (let id = 1; id <= 300; id++) stream.offer(event(id));
    expect(sent).toHaveLength(300);
  });

  it('catches up what it was not sent, in id order, and counts only those', () => {
    const { sent, stream } = streamFrom(3n);
    stream.replay([event(4)]);
    stream.endReplay();
    stream.offer(event(9)); // live, from this instance
    expect(stream.catchUp([event(9), event(8), event(3), event(7), event(4)])).toBe(2);
    expect(sent).toEqual(['4', '9', '7', '8']);
    stream.offer(event(8)); // the lost message, arriving after all
    expect(sent).toEqual(['4', '9', '7', '8']);
  });

  it("holds a catch-up behind the connection's own replay", () => {
    const { sent, stream } = streamFrom(3n);
    stream.catchUp([event(6)]);
    expect(sent).toEqual([]);
    stream.replay([event(4), event(6)]);
    stream.endReplay();
    expect(sent).toEqual(['4', '6']);
  });
});
