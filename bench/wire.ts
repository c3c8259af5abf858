// Shapes passed between the bench's processes (as JSON files) and the provider acknowledgements.
import type { CpuShares, MeterSpec } from './cpu';
import type { LoadSummary } from './stats';

export type Method = 'wechat' | 'alipay';

export interface CreatedOrder {
  orderNo: string;
  qr: string;
  method: Method;
}

/** A signed notification as the sandbox prepared it (`POST /sandbox/pay {delivery:'none'}`), ready to post. */
export interface PreparedNotification {
  orderNo: string;
  method: Method;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Did memberpay accept the notification? WeChat Pay counts 200/204 as delivered
 * (docs/wechat-pay.md#acknowledgement); Alipay wants exactly `success` (docs/alipay.md#acknowledgement).
 * Anything else makes the provider send it again, so the bench counts it as an error.
 */
export function accepted(method: Method, status: number, body: string): boolean {
  if (method === 'wechat') return status === 200 || status === 204;
  return status === 200 && body === 'success';
}

/** What a measuring process reports besides its summary: its window on the shared monotonic clock, and the CPU shares in it. */
export interface Measurement {
  summary: LoadSummary;
  window: { startUs: number; endUs: number };
  cpu: CpuShares;
}

export type LoadSpec = { meter: MeterSpec } & (
  | {
      kind: 'create-order';
      url: string;
      connections: number;
      /** Run for this long, or send `amount` requests. */
      durationSeconds?: number;
      amount?: number;
      /** Every request is made by a new user `<userPrefix>-<n>`. */
      userPrefix: string;
      productId: number;
      methods: Method[];
    }
  | {
      kind: 'notifications';
      url: string;
      connections: number;
      /** A JSON file of PreparedNotification[]. */
      file: string;
      /** Requests to send, taken from the file in turn (wrapping around when larger than the file). */
      amount: number;
    }
  | {
      kind: 'get';
      url: string;
      connections: number;
      /** A path of the API, asked `amount` times, each time as the next of `userIds` (a bearer token each). */
      path: string;
      userIds: string[];
      amount: number;
    }
);
