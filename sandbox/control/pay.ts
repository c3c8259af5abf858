// `POST /sandbox/pay` and `POST /sandbox/scan`: a buyer scans and pays, then the provider notifies
// memberpay. The answer comes after the first delivery round; resends continue in the background
// on the provider's schedule (docs/wechat-pay.md#acknowledgement, docs/alipay.md#acknowledgement).
import type { SandboxContext } from '../context';
import type { Provider } from '../faults';
import { strangerKey } from '../keys';
import { newDeliveryRecord, type DeliveryRecord, type PreparedNotification } from '../notifier';
import { settleAlipayExpiry, settleWechatExpiry, type QrRef } from '../store';
import { ALIPAY_RETRY_INTERVALS_MS, alipayAccepts, prepareAlipayNotification, type AlipayTamper } from '../alipay/notification';
import { scanOrder, settleOrder } from '../alipay/trade';
import { CODE_URL_TTL_MS } from '../wechat/api';
import { WECHAT_RETRY_INTERVALS_MS, prepareWechatNotification, wechatAccepts, type WechatTamper } from '../wechat/notification';
import { markWechatPaid } from '../wechat/transaction';
import { parsePayOptions, type PayOptions } from './pay-options';
import { hasClientPayload, openByClient } from './client-pay';
import { signedReturnUrl } from '../alipay/client-pay';

export interface ControlAnswer {
  status: number;
  body: Record<string, unknown>;
}

const refuse = (status: number, error: string): ControlAnswer => ({ status, body: { error } });

/** Finds the trade by `qr` (code_url / qr_code) or by `out_trade_no` (+ `provider` if ambiguous). */
export function locate(ctx: SandboxContext, body: Record<string, unknown>): QrRef | ControlAnswer {
  if (typeof body.qr === 'string' && body.qr !== '') {
    return ctx.store.findQr(body.qr) ?? refuse(404, `unknown QR code: ${body.qr}`);
  }
  if (typeof body.out_trade_no !== 'string') return refuse(400, 'give "qr" (code_url or qr_code) or "out_trade_no"');
  const outTradeNo = body.out_trade_no;
  const found = (['wechat', 'alipay'] as Provider[]).filter(
    (p) => ctx.store[p].has(outTradeNo) && (body.provider === undefined || body.provider === p),
  );
  if (found.length === 0) return refuse(404, `unknown out_trade_no: ${outTradeNo}`);
  if (found.length > 1) return refuse(400, 'out_trade_no exists at both providers: add "provider"');
  return { provider: found[0], outTradeNo, issuedAt: new Date(0) };
}

interface Settled {
  prepared?: PreparedNotification;
  records: DeliveryRecord[];
  summary: Record<string, unknown>;
}

async function settleWechat(ctx: SandboxContext, ref: QrRef, opts: PayOptions, byQr: boolean): Promise<Settled | ControlAnswer> {
  const now = new Date();
  const trade = settleWechatExpiry(ctx.store.wechat.get(ref.outTradeNo)!, now);
  if (opts.pay) {
    if (trade.state === 'SUCCESS') return refuse(409, `trade ${trade.outTradeNo} is already paid; send {"pay": false} to notify again`);
    if (trade.state === 'CLOSED') {
      return refuse(
        409,
        `trade ${trade.outTradeNo} is CLOSED (${trade.closedBy === 'expiry' ? 'time_expire passed' : 'closed by the merchant'}): it cannot be paid`,
      );
    }
    if (byQr && now.getTime() - ref.issuedAt.getTime() > CODE_URL_TTL_MS)
      return refuse(409, 'this code_url is older than 2 hours and has expired');
    markWechatPaid(trade, now);
    ctx.log(`[wechat] buyer paid ${trade.outTradeNo}`);
  }
  const stranger = opts.tamper === 'wrong-key' ? await strangerKey() : undefined;
  const prepared = prepareWechatNotification(ctx.keys.wechat, trade, {
    signWith: opts.signWith,
    tamper: opts.tamper as WechatTamper | undefined,
    override: opts.override,
    stranger,
  });
  return {
    prepared,
    records: trade.notifications,
    summary: { provider: 'wechat', out_trade_no: trade.outTradeNo, transaction_id: trade.transactionId ?? null, trade_state: trade.state },
  };
}

async function settleAlipay(ctx: SandboxContext, ref: QrRef, opts: PayOptions): Promise<Settled | ControlAnswer> {
  const now = new Date();
  const order = ctx.store.alipay.get(ref.outTradeNo)!;
  if (opts.pay) {
    const refusal = settleOrder(order, opts.tradeStatus ?? 'TRADE_SUCCESS', now);
    if (refusal) return refuse(409, refusal);
    ctx.log(
      `[alipay] buyer ${opts.tradeStatus === 'WAIT_BUYER_PAY' ? 'scanned' : 'settled'} ${order.outTradeNo} -> ${order.trade?.status}`,
    );
  } else if (!order.trade) {
    return refuse(409, `trade ${order.outTradeNo} does not exist yet (not scanned): nothing to notify`);
  }
  const summary = {
    provider: 'alipay',
    out_trade_no: order.outTradeNo,
    transaction_id: order.trade?.tradeNo ?? null,
    trade_state: order.trade?.status,
  };
  if (!order.notifyUrl) return { records: order.notifications, summary: { ...summary, note: 'precreate had no notify_url: nothing sent' } };
  const stranger = opts.tamper === 'wrong-key' ? await strangerKey() : undefined;
  const prepared = prepareAlipayNotification(ctx.keys.alipay, order, {
    tamper: opts.tamper as AlipayTamper | undefined,
    override: opts.override,
    stranger,
    tradeStatus: opts.pay ? undefined : opts.tradeStatus,
  });
  return { prepared, records: order.notifications, summary };
}

export async function payAndNotify(ctx: SandboxContext, body: Record<string, unknown>): Promise<ControlAnswer> {
  const answer = await payAndNotifyTrade(ctx, body);
  if (answer.status !== 200) return answer;
  // Where the buyer's browser goes next: Alipay WAP/page signs the way back (docs/alipay.md#return-url); WeChat H5
  // sends it to the redirect_url appended to the h5_url, adding nothing.
  const order = answer.body.provider === 'alipay' ? ctx.store.alipay.get(String(answer.body.out_trade_no)) : undefined;
  const returnUrl = order ? signedReturnUrl(ctx, order) : null;
  if (returnUrl) answer.body.return_url = returnUrl;
  if (typeof body.h5_url === 'string' && URL.canParse(body.h5_url)) {
    const redirect = new URL(body.h5_url).searchParams.get('redirect_url');
    if (redirect) answer.body.redirect_url = redirect;
  }
  return answer;
}

async function payAndNotifyTrade(ctx: SandboxContext, body: Record<string, unknown>): Promise<ControlAnswer> {
  const ref = hasClientPayload(body) ? openByClient(ctx, body) : locate(ctx, body);
  if ('status' in ref) return ref;
  const opts = parsePayOptions(body, ref.provider);
  if (typeof opts === 'string') return refuse(400, opts);
  const settled =
    ref.provider === 'wechat' ? await settleWechat(ctx, ref, opts, typeof body.qr === 'string') : await settleAlipay(ctx, ref, opts);
  if ('status' in settled) return settled;
  const { prepared, records, summary } = settled;
  const idle = { delivered: false, attempts: [], retrying: false };
  if (!prepared) return { status: 200, body: { ...summary, ...idle } };
  if (opts.delivery === 'none') return { status: 200, body: { ...summary, ...idle, notification: prepared.build(0) } };
  if (opts.delivery === 'drop') return { status: 200, body: { ...summary, ...idle, note: 'notification dropped' } };
  if (opts.delayMs > 0) await ctx.notifier.wait(opts.delayMs);
  const record = newDeliveryRecord(prepared);
  records.push(record);
  const wechat = ref.provider === 'wechat';
  const attempts = await ctx.notifier.deliver({
    record,
    build: (n) => prepared.build(n),
    accepts: wechat ? wechatAccepts : alipayAccepts,
    retryIntervalsMs: wechat ? WECHAT_RETRY_INTERVALS_MS : ALIPAY_RETRY_INTERVALS_MS,
    copies: opts.delivery === 'normal' ? 1 : opts.copies,
    concurrent: opts.delivery === 'concurrent',
  });
  return {
    status: 200,
    body: {
      ...summary,
      notification_id: record.notificationId,
      delivered: record.delivered,
      attempts: attempts.map(({ status, body: answer, error }) => (error ? { error } : { status, body: answer })),
      retrying: record.retrying,
    },
  };
}

/** `POST /sandbox/scan`: Alipay only — the buyer opens the cashier and the trade now exists. */
export function scan(ctx: SandboxContext, body: Record<string, unknown>): ControlAnswer {
  const ref = locate(ctx, body);
  if ('status' in ref) return ref;
  if (ref.provider !== 'alipay') return refuse(400, 'WeChat Pay has no separate scan step: the trade exists since the Native order');
  const order = ctx.store.alipay.get(ref.outTradeNo)!;
  const trade = scanOrder(order, new Date());
  if (typeof trade === 'string') return refuse(409, trade);
  return { status: 200, body: { provider: 'alipay', out_trade_no: order.outTradeNo, trade_no: trade.tradeNo, trade_status: trade.status } };
}

/**
 * `POST /sandbox/expire`: moves the trade's expiry to now, so a test can see expiry without
 * waiting (WeChat floors time_expire at +1 min). Before an Alipay scan it makes the QR unusable.
 */
export function expire(ctx: SandboxContext, body: Record<string, unknown>): ControlAnswer {
  const ref = locate(ctx, body);
  if ('status' in ref) return ref;
  const past = new Date(Date.now() - 1);
  if (ref.provider === 'wechat') {
    const trade = ctx.store.wechat.get(ref.outTradeNo)!;
    if (trade.state === 'NOTPAY') trade.timeExpire = past;
    return {
      status: 200,
      body: { provider: 'wechat', out_trade_no: trade.outTradeNo, trade_state: settleWechatExpiry(trade, new Date()).state },
    };
  }
  const order = ctx.store.alipay.get(ref.outTradeNo)!;
  if (order.trade) {
    if (order.trade.status === 'WAIT_BUYER_PAY') order.trade.expiresAt = past;
  } else {
    order.expiry = { kind: 'absolute', at: past, text: 'expired by /sandbox/expire' };
  }
  return {
    status: 200,
    body: {
      provider: 'alipay',
      out_trade_no: order.outTradeNo,
      trade_status: settleAlipayExpiry(order, new Date()).trade?.status ?? 'NOT_SCANNED',
    },
  };
}
