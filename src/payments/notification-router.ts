import { Injectable } from '@nestjs/common';
import { IncomingNotification, NotificationKind, NotificationRejected } from './payment-provider';

type EventOf<K extends NotificationKind> = Extract<IncomingNotification, { kind: K }>['event'];

/** What handling a notification did, in a word for the logs (settled, duplicate, applied …). */
export type HandledAs = string;

/**
 * Routes each verified notification to the module that owns its kind. Payments handles payments
 * itself; modules above payments (refunds, and whoever adds a kind) register their handler at
 * start, so payments knows none of them. A kind nobody handles is refused, changing nothing.
 */
@Injectable()
export class NotificationRouter {
  private readonly handlers = new Map<NotificationKind, (event: never) => Promise<HandledAs>>();

  handle<K extends NotificationKind>(kind: K, handler: (event: EventOf<K>) => Promise<HandledAs>): void {
    if (this.handlers.has(kind)) throw new Error(`notifications of kind ${kind} have a handler already`);
    this.handlers.set(kind, handler as (event: never) => Promise<HandledAs>);
  }

  dispatch(notification: IncomingNotification): Promise<HandledAs> {
    const handler = this.handlers.get(notification.kind) as ((event: EventOf<typeof notification.kind>) => Promise<HandledAs>) | undefined;
    if (!handler) throw new NotificationRejected('UNEXPECTED_EVENT', `notifications of kind ${notification.kind} are not handled here`);
    return handler(notification.event);
  }
}
