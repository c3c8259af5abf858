// The load, as a table: each kind is one thing a member (or support) does, with its weight in the mix.
// Members loop: draw a kind from their own seeded stream, run it, draw again. A new kind (auto-renewal
// contracts, webhooks) is one more entry in LOAD_KINDS.
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import type { Answer, MemberSocket, ServiceClient } from './client';
import type { DeliveryFault } from './faults';
import type { Rng } from './prng';
import { sleep } from './wait';

type Provider = 'wechat' | 'alipay';
const CHANNELS: Record<Provider, readonly string[]> = { wechat: ['qr', 'app', 'jsapi', 'h5'], alipay: ['qr', 'app', 'wap', 'page'] };
/** Plans 1–3 basic (level 1), 4–6 premium (level 2); monthly ones most often. */
const PRODUCTS = [
  { id: 1, weight: 5 },
  { id: 2, weight: 1 },
  { id: 3, weight: 1 },
  { id: 4, weight: 3 },
  { id: 5, weight: 1 },
  { id: 6, weight: 1 },
];

export interface Member {
  id: string;
  token: string;
  socket: MemberSocket;
  rng: Rng;
  /** Orders this member paid at the sandbox, refundable by support later. */
  paid: { orderNo: string; amount: number }[];
}

export interface LoadContext {
  client: ServiceClient;
  sandboxUrl: string;
  db: Client;
  adminToken: string;
  /** The notification fault for this payment, if one is armed (see faults.ts). */
  takeDelivery(): DeliveryFault | undefined;
  /** Counts what the load did, by outcome. */
  note(what: string): void;
}

export interface LoadKind {
  name: string;
  weight: number;
  run(ctx: LoadContext, m: Member): Promise<void>;
}

async function sandbox(ctx: LoadContext, path: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${ctx.sandboxUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

interface Created {
  order_no: string;
  amount: number;
  qr_code_url?: string;
  pay: Record<string, unknown>;
  provider: Provider;
  channel: string;
  openid?: string;
}

async function createOrder(
  ctx: LoadContext,
  m: Member,
  opts: { provider?: Provider; channel?: string; productId?: number; upgrade?: boolean } = {},
): Promise<Created | undefined> {
  const provider = opts.provider ?? m.rng.pick(['wechat', 'alipay'] as const);
  const channel = opts.channel ?? (m.rng.chance(0.5) ? 'qr' : m.rng.pick(CHANNELS[provider]));
  const body: Record<string, unknown> = {
    product_type: 'membership',
    product_id: opts.productId ?? m.rng.weighted(PRODUCTS).id,
    payment_method: provider,
    is_upgrade: opts.upgrade ?? false,
    channel,
  };
  let openid: string | undefined;
  if (channel === 'jsapi') {
    openid = (await sandbox(ctx, '/sandbox/wechat/openid', {})).body.openid;
    body.openid = openid;
  }
  if (channel === 'h5') body.h5_type = m.rng.pick(['Wap', 'iOS', 'Android']);
  const res = await ctx.client.request('POST', '/api/v1/payment/create-order', 'create-order', {
    token: m.token,
    body,
    headers: { 'idempotency-key': randomUUID() },
    retry: true,
  });
  if (res.status !== 201) {
    ctx.note(`create-order ${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`);
    return undefined;
  }
  return { ...(res.body as Created), provider, channel, openid };
}

/** What the buyer's client hands the sandbox to pay this order's current attempt. */
function payField(o: Created): Record<string, unknown> {
  const pay = o.pay ?? {};
  switch (`${o.provider}:${o.channel}`) {
    case 'wechat:app':
      return { wechat_app: pay };
    case 'wechat:jsapi':
      return { wechat_jsapi: pay, openid: o.openid };
    case 'wechat:h5':
      return { h5_url: pay.h5_url };
    case 'alipay:app':
      return { alipay_order_string: pay.order_string };
    case 'alipay:wap':
    case 'alipay:page':
      return { alipay_url: pay.url };
    default:
      return { qr: o.qr_code_url ?? pay.qr_code_url };
  }
}

/** The buyer pays; a notification fault armed by the schedule applies to this payment. */
async function pay(ctx: LoadContext, m: Member, o: Created, extra: Record<string, unknown> = {}): Promise<boolean> {
  const fault = ctx.takeDelivery();
  const options: Record<string, unknown> = { ...extra };
  if (fault?.kind === 'drop') options.delivery = 'drop';
  if (fault?.kind === 'three-times') Object.assign(options, { delivery: 'duplicate', copies: 3 });
  if (fault?.kind === 'late') options.delayMs = fault.delayMs;
  if (fault?.kind === 'reorder') {
    // This payment's notification waits while the next payment's goes at once: the service hears of
    // the second payment first.
    options.delayMs = 4_000;
    ctx.note('reordered pair: first (held 4 s)');
  }
  const res = await sandbox(ctx, '/sandbox/pay', { ...payField(o), ...options });
  if (res.status !== 200) {
    ctx.note(`sandbox pay ${res.status}`);
    return false;
  }
  if (fault) ctx.note(`payment with notification fault ${fault.kind}`);
  m.paid.push({ orderNo: o.order_no, amount: o.amount });
  return true;
}

async function refund(ctx: LoadContext, m: Member, full: boolean): Promise<void> {
  if (!m.paid.length) return;
  const i = m.rng.int(0, m.paid.length - 1);
  const target = m.paid[i];
  const amount = full ? undefined : m.rng.int(1, Math.max(1, Math.floor(target.amount / 3)));
  const res = await ctx.client.request('POST', `/api/v1/admin/orders/${target.orderNo}/refunds`, full ? 'refund-full' : 'refund-partial', {
    token: ctx.adminToken,
    body: { ...(amount ? { amount } : {}), reason: full ? 'soak: full refund' : 'soak: partial refund' },
    headers: { 'idempotency-key': randomUUID() },
    retry: true,
  });
  ctx.note(`refund ${full ? 'full' : 'partial'} ${res.status}${res.body?.code ? ` ${res.body.code}` : ''}`);
  if (full && res.status === 202) m.paid.splice(i, 1);
}

export const LOAD_KINDS: LoadKind[] = [
  {
    name: 'purchase',
    weight: 30,
    async run(ctx, m) {
      const o = await createOrder(ctx, m);
      if (!o) return;
      const paid = await pay(ctx, m, o);
      // A buyer who taps twice: the provider refuses the second payment of the same code.
      if (paid && o.channel === 'qr' && m.rng.chance(0.1)) {
        const again = await sandbox(ctx, '/sandbox/pay', payField(o));
        ctx.note(`paid the same code again: ${again.status}`);
      }
    },
  },
  {
    name: 'let-expire',
    weight: 6,
    async run(ctx, m) {
      if (await createOrder(ctx, m)) ctx.note('left to expire');
    },
  },
  {
    name: 'cancel',
    weight: 6,
    async run(ctx, m) {
      const o = await createOrder(ctx, m);
      if (!o) return;
      const res = await ctx.client.request('POST', `/api/v1/payment/orders/${o.order_no}/cancel`, 'cancel', {
        token: m.token,
        retry: true,
      });
      ctx.note(`cancel ${res.status}`);
    },
  },
  {
    name: 'refresh-then-pay',
    weight: 8,
    async run(ctx, m) {
      const o = await createOrder(ctx, m);
      if (!o) return;
      const res = await ctx.client.request('POST', `/api/v1/payment/orders/${o.order_no}/refresh`, 'refresh', {
        token: m.token,
        retry: true,
      });
      ctx.note(`refresh ${res.status}`);
      if (res.status === 200 || res.status === 201)
        await pay(ctx, m, { ...o, ...res.body, provider: o.provider, channel: o.channel, openid: o.openid });
    },
  },
  {
    name: 'double-payment',
    weight: 4,
    async run(ctx, m) {
      // The first code is paid without us being told; refreshing finds it paid while closing it, and
      // the new code, already issued, is paid too: a double payment, refunded by itself.
      const o = await createOrder(ctx, m, { provider: 'wechat', channel: 'qr' });
      if (!o) return;
      const first = await sandbox(ctx, '/sandbox/pay', { qr: o.qr_code_url, delivery: 'none' });
      if (first.status !== 200) return;
      m.paid.push({ orderNo: o.order_no, amount: o.amount });
      const res = await ctx.client.request('POST', `/api/v1/payment/orders/${o.order_no}/refresh`, 'refresh', {
        token: m.token,
        retry: true,
      });
      ctx.note(`refresh of a paid code ${res.status}`);
      const { rows } = await ctx.db.query<{ qr_code_url: string }>(
        `SELECT r.qr_code_url FROM payment_records r JOIN orders o ON o.id = r.order_id
          WHERE o.order_no = $1 AND r.status = 'pending' AND r.qr_code_url IS NOT NULL`,
        [o.order_no],
      );
      if (!rows.length) return;
      const second = await sandbox(ctx, '/sandbox/pay', { qr: rows[0].qr_code_url });
      ctx.note(`double payment: second code paid ${second.status}`);
    },
  },
  {
    name: 'upgrade',
    weight: 8,
    async run(ctx, m) {
      const quotes = await ctx.client.request('GET', '/api/v1/membership/quotes', 'quotes', { token: m.token, retry: true });
      const up = (quotes.body?.data ?? []).find((q: { kind: string }) => q.kind === 'upgrade');
      if (!up) {
        // Nothing to upgrade yet: buy a basic month first.
        const o = await createOrder(ctx, m, { productId: 1 });
        if (o) await pay(ctx, m, o);
        return;
      }
      const o = await createOrder(ctx, m, { productId: up.plan.id, upgrade: true });
      if (o) {
        ctx.note('upgrade created');
        await pay(ctx, m, o);
      }
    },
  },
  { name: 'refund-partial', weight: 5, run: (ctx, m) => refund(ctx, m, false) },
  { name: 'refund-full', weight: 4, run: (ctx, m) => refund(ctx, m, true) },
  {
    name: 'read',
    weight: 6,
    async run(ctx, m) {
      await ctx.client.request('GET', '/api/v1/membership/me', 'me', { token: m.token, retry: true });
      await ctx.client.request('GET', '/api/v1/payment/orders?limit=5', 'orders', { token: m.token, retry: true });
    },
  },
  {
    name: 'reconnect',
    weight: 3,
    async run(_ctx, m) {
      // The member goes on with other things if the service keeps refusing; the socket keeps trying.
      await Promise.race([m.socket.reconnect(), sleep(30_000)]);
    },
  },
];
