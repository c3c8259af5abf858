// The WeChat Pay trade life cycle NOTPAY -> SUCCESS and NOTPAY -> CLOSED (docs/wechat-pay.md#querying), and
// the Transaction object that both the query answer and the notification carry (docs/wechat-pay.md#notification-decryption).
import { randomBytes } from 'node:crypto';
import { beijingDateTime, rfc3339Beijing } from '../clock';
import { randomAlnum, randomDigits } from '../ids';
import type { WechatTrade } from '../store';

const STATE_DESC: Record<WechatTrade['state'], string> = {
  NOTPAY: '订单未支付',
  SUCCESS: '支付成功',
  CLOSED: '订单已关闭',
};

/** WeChat's examples only show 28 digits (docs/wechat-pay.md#notification-decryption): 4200 + yyyyMMdd + 16 random digits. */
function transactionId(now: Date): string {
  return `4200${beijingDateTime(now).slice(0, 10).replace(/-/g, '')}${randomDigits(16)}`;
}

function openid(): string {
  return `oSandbox${randomBytes(15).toString('base64url').slice(0, 20)}`;
}

/** Marks a payable trade paid; the caller has checked that it is NOTPAY and not expired. */
export function markWechatPaid(trade: WechatTrade, now: Date): void {
  trade.state = 'SUCCESS';
  trade.transactionId = transactionId(now);
  trade.successTime = now;
  trade.payerOpenid ??= openid(); // a JSAPI payer is known from the order
}

export function newCodeUrl(): string {
  return `weixin://wxpay/bizpayurl?pr=${randomAlnum(10)}`;
}

/** The Transaction object; payment fields appear only once paid (docs/wechat-pay.md#querying). */
export function transactionObject(trade: WechatTrade): Record<string, unknown> {
  const paid = trade.state === 'SUCCESS';
  const base: Record<string, unknown> = {
    appid: trade.appid,
    mchid: trade.mchid,
    out_trade_no: trade.outTradeNo,
    trade_type: trade.tradeType ?? 'NATIVE',
    trade_state: trade.refunded ? 'REFUND' : trade.state,
    trade_state_desc: trade.refunded ? '转入退款' : STATE_DESC[trade.state],
  };
  if (!paid) {
    return { ...base, amount: { total: trade.totalFen, currency: 'CNY', payer_currency: 'CNY' } };
  }
  return {
    ...base,
    transaction_id: trade.transactionId,
    bank_type: 'OTHERS',
    ...(trade.attach !== undefined ? { attach: trade.attach } : {}),
    success_time: rfc3339Beijing(trade.successTime ?? new Date()),
    payer: { openid: trade.payerOpenid },
    amount: { total: trade.totalFen, payer_total: trade.totalFen, currency: 'CNY', payer_currency: 'CNY' },
  };
}
