// WeChat Pay domestic refunds (docs/refunds.md): create with out_refund_no idempotency,
// amount.total equal to the order total, cumulative refunds within it, at most 50 per order and
// within a year of payment; PROCESSING first, then SUCCESS / ABNORMAL / CLOSED with a REFUND.*
// notification encrypted and signed like a payment notification; query by out_refund_no.
import { rfc3339Beijing } from '../clock';
import type { SandboxContext } from '../context';
import type { FaultMode } from '../faults';
import { isPlainObject } from '../http';
import { randomDigits } from '../ids';
import { newDeliveryRecord } from '../notifier';
import type { WechatRefund, WechatRefundStatus } from '../store';
import { checkNotifyUrl, paramError, type WechatError } from './native-order';
import { WECHAT_RETRY_INTERVALS_MS, prepareWechatRefundNotification, wechatAccepts, type WechatNotifyOptions } from './notification';
import { errorBody, type WechatAnswer } from './reply';

const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const MAX_REFUNDS_PER_ORDER = 50;
const REFUND_WINDOW_MS = 365 * 24 * 3600_000;

const fromError = (e: WechatError): WechatAnswer => ({ status: e.status, body: errorBody(e.code, e.message, e.detail) });
// WeChat lists the refund codes but not their HTTP statuses (docs/refunds.md): 404 for a missing resource and
// 400 INVALID_REQUEST for business refusals, following docs/wechat-pay.md#errors.
const notExists: WechatAnswer = { status: 404, body: errorBody('RESOURCE_NOT_EXISTS', '订单不存在') };
const invalid = (message: string): WechatAnswer => ({ status: 400, body: errorBody('INVALID_REQUEST', message) });

/** Refunds that hold money: everything but a CLOSED one (its amount is refundable again). */
function committedFen(ctx: SandboxContext, outTradeNo: string, except?: WechatRefund): number {
  return ctx.store
    .wechatRefundsOf(outTradeNo)
    .filter((r) => r !== except && r.status !== 'CLOSED')
    .reduce((s, r) => s + r.refundFen, 0);
}

/** The refund object of the create and query answers (docs/refunds.md). */
export function refundObject(ctx: SandboxContext, refund: WechatRefund): Record<string, unknown> {
  const trade = ctx.store.wechat.get(refund.outTradeNo)!;
  return {
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    transaction_id: trade.transactionId,
    out_trade_no: refund.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(refund.successTime ? { success_time: rfc3339Beijing(refund.successTime) } : {}),
    create_time: rfc3339Beijing(refund.createdAt),
    status: refund.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: trade.totalFen,
      refund: refund.refundFen,
      payer_total: trade.totalFen,
      payer_refund: refund.refundFen,
      settlement_refund: refund.refundFen,
      settlement_total: trade.totalFen,
      discount_refund: 0,
      currency: 'CNY',
      refund_fee: 0,
    },
    promotion_detail: [],
  };
}

/** The decrypted resource of a refund notification (docs/refunds.md). */
function notificationResource(ctx: SandboxContext, refund: WechatRefund): Record<string, unknown> {
  const trade = ctx.store.wechat.get(refund.outTradeNo)!;
  return {
    mchid: trade.mchid,
    transaction_id: trade.transactionId,
    out_trade_no: refund.outTradeNo,
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    refund_status: refund.status,
    ...(refund.successTime ? { success_time: rfc3339Beijing(refund.successTime) } : {}),
    user_received_account: '支付用户零钱',
    amount: { total: trade.totalFen, refund: refund.refundFen, payer_total: trade.totalFen, payer_refund: refund.refundFen },
  };
}

export function createRefund(ctx: SandboxContext, body: unknown, now: Date, fault?: FaultMode): WechatAnswer {
  if (!isPlainObject(body)) return fromError(paramError('', body, '请求体必须为JSON对象'));
  const {
    out_trade_no: outTradeNo,
    transaction_id: transactionId,
    out_refund_no: outRefundNo,
    reason,
    notify_url: notifyUrl,
    amount,
  } = body;
  if (typeof outRefundNo !== 'string' || !OUT_REFUND_NO.test(outRefundNo)) {
    return fromError(paramError('out_refund_no', outRefundNo, '应为1-64位数字、大小写字母、_-|*@'));
  }
  if (reason !== undefined && (typeof reason !== 'string' || [...reason].length > 80))
    return fromError(paramError('reason', reason, '长度不能超过80'));
  if (notifyUrl !== undefined) {
    const issue = checkNotifyUrl(notifyUrl);
    if (issue) return fromError(paramError('notify_url', notifyUrl, issue));
  }
  if (!isPlainObject(amount)) return fromError(paramError('amount', amount, '为必填对象'));
  if (!Number.isInteger(amount.refund) || (amount.refund as number) < 1)
    return fromError(paramError('amount/refund', amount.refund, '应为不小于1的整数（分）'));
  if (!Number.isInteger(amount.total) || (amount.total as number) < 1)
    return fromError(paramError('amount/total', amount.total, '应为不小于1的整数（分）'));
  if (amount.currency !== 'CNY') return fromError(paramError('amount/currency', amount.currency, '仅支持CNY'));
  const trade =
    typeof transactionId === 'string' && transactionId
      ? ctx.store.findWechatByTransactionId(transactionId)
      : typeof outTradeNo === 'string'
        ? ctx.store.wechat.get(outTradeNo)
        : undefined;
  if (!trade) return notExists;
  const fingerprint = JSON.stringify([trade.outTradeNo, amount.refund, amount.total]);
  const existing = ctx.store.wechatRefunds.get(outRefundNo);
  if (existing) {
    // The same out_refund_no refunds once (docs/refunds.md): a retry gets the refund as it is now.
    if (existing.fingerprint !== fingerprint) return invalid('退款单号已存在，请求参数与原退款不一致');
    return { status: 200, body: refundObject(ctx, existing) };
  }
  if (trade.state !== 'SUCCESS') return invalid('订单未支付，不能退款');
  if (amount.total !== trade.totalFen) return invalid('订单金额与原订单金额不一致');
  if (fault === 'refund-window-over' || now.getTime() - (trade.successTime ?? now).getTime() > REFUND_WINDOW_MS) {
    return invalid('订单已超过退款期限');
  }
  if (ctx.store.wechatRefundsOf(trade.outTradeNo).length >= MAX_REFUNDS_PER_ORDER) return invalid('订单退款次数已超过50次');
  if (committedFen(ctx, trade.outTradeNo) + (amount.refund as number) > trade.totalFen) return invalid('申请退款金额超过订单可退金额');
  const refund: WechatRefund = {
    outRefundNo,
    refundId: `50${randomDigits(27)}`,
    outTradeNo: trade.outTradeNo,
    refundFen: amount.refund as number,
    reason: reason as string | undefined,
    notifyUrl: notifyUrl as string | undefined,
    fingerprint,
    createdAt: now,
    status: 'PROCESSING',
    notifications: [],
  };
  ctx.store.wechatRefunds.set(outRefundNo, refund);
  ctx.log(`[wechat] refund ${outRefundNo} of ${trade.outTradeNo}: ${refund.refundFen} fen`);
  // Without a fault the refund ends by itself right after this answer, as WeChat's usually do
  // within seconds; `refund-later` leaves it PROCESSING for POST /sandbox/refunds/settle.
  const ending: WechatRefundStatus | undefined =
    fault === 'refund-later' ? undefined : fault === 'refund-abnormal' ? 'ABNORMAL' : fault === 'refund-closed' ? 'CLOSED' : 'SUCCESS';
  if (ending) setImmediate(() => void finishRefund(ctx, refund, ending, { signWith: 'public-key' }, 'normal', 1).catch(() => undefined));
  return { status: 200, body: refundObject(ctx, refund) };
}

export function queryRefund(ctx: SandboxContext, outRefundNo: string): WechatAnswer {
  const refund = ctx.store.wechatRefunds.get(outRefundNo);
  return refund ? { status: 200, body: refundObject(ctx, refund) } : notExists;
}

export type RefundDelivery = 'normal' | 'duplicate' | 'concurrent' | 'drop' | 'none';

/**
 * Moves a refund to `status` (SUCCESS and CLOSED are final; ABNORMAL may still end either way) and
 * notifies the refund's notify_url. With delivery `none` the prepared notification is returned
 * for the caller to post.
 */
export async function finishRefund(
  ctx: SandboxContext,
  refund: WechatRefund,
  status: Exclude<WechatRefundStatus, 'PROCESSING'>,
  opts: WechatNotifyOptions,
  delivery: RefundDelivery,
  copies: number,
): Promise<Record<string, unknown>> {
  if (refund.status !== status) {
    if (
      status === 'SUCCESS' &&
      committedFen(ctx, refund.outTradeNo, refund) + refund.refundFen > ctx.store.wechat.get(refund.outTradeNo)!.totalFen
    ) {
      throw new Error('the refund no longer fits in the order total');
    }
    refund.status = status;
    if (status === 'SUCCESS') {
      refund.successTime = new Date();
      ctx.store.wechat.get(refund.outTradeNo)!.refunded = true;
    }
    ctx.log(`[wechat] refund ${refund.outRefundNo} -> ${status}`);
  }
  const summary = { provider: 'wechat', out_refund_no: refund.outRefundNo, out_trade_no: refund.outTradeNo, status: refund.status };
  if (!refund.notifyUrl) return { ...summary, note: 'the refund had no notify_url: nothing sent' };
  const prepared = prepareWechatRefundNotification(
    ctx.keys.wechat,
    refund.notifyUrl,
    notificationResource(ctx, refund),
    refund.status,
    opts,
  );
  if (delivery === 'none') return { ...summary, notification: prepared.build(0) };
  if (delivery === 'drop') return { ...summary, note: 'notification dropped' };
  const record = newDeliveryRecord(prepared);
  refund.notifications.push(record);
  const attempts = await ctx.notifier.deliver({
    record,
    build: (n) => prepared.build(n),
    accepts: wechatAccepts,
    retryIntervalsMs: WECHAT_RETRY_INTERVALS_MS,
    copies,
    concurrent: delivery === 'concurrent',
  });
  return {
    ...summary,
    notification_id: record.notificationId,
    delivered: record.delivered,
    retrying: record.retrying,
    attempts: attempts.map(({ status: s, body, error }) => (error ? { error } : { status: s, body })),
  };
}
