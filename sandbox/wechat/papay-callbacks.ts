// The v2 callbacks of the contract product (docs/contracts.md#callbacks): sign / unsign results to the
// contract's notify URL, and payment and deduction results to the order's notify_url. XML, signed with the
// API v2 key in the sign_type of the request they answer; acknowledged only by `return_code` SUCCESS.
import { beijingDateTime } from '../clock';
import { randomAlnum, uuid } from '../ids';
import type { SandboxContext } from '../context';
import { newDeliveryRecord, type DeliveryRecord, type PreparedNotification } from '../notifier';
import type { PapayContract, PapayOrder } from '../store';
import { buildV2Xml, signedV2, v2Accepts, type V2SignType } from './v2-xml';

const S = 1000;
/** docs/contracts.md#callbacks: a deduction result is resent at 0/15/15/30/180/1800/1800/1800/1800/3600 s. */
export const PAPAY_RETRY_INTERVALS_MS = [15 * S, 15 * S, 30 * S, 180 * S, 1800 * S, 1800 * S, 1800 * S, 1800 * S, 3600 * S] as const;

/** `signature`: one character of `sign` changed; `wrong-key`: signed with a key that is not the merchant's. */
export type PapayTamper = 'signature' | 'wrong-key';
export const PAPAY_TAMPERS: readonly PapayTamper[] = ['signature', 'wrong-key'];

/** yyyyMMddHHmmss in Beijing time, the v2 time layout. */
export function v2Time(date: Date): string {
  return beijingDateTime(date).replace(/[- :]/g, '');
}

function signWith(fields: Record<string, string>, key: string, type: V2SignType, tamper?: PapayTamper): Record<string, string> {
  const signed = signedV2(fields, tamper === 'wrong-key' ? randomAlnum(32) : key, type);
  if (tamper === 'signature') signed.sign = `${signed.sign.slice(0, -1)}${signed.sign.endsWith('0') ? '1' : '0'}`;
  return signed;
}

export function contractCallbackFields(ctx: SandboxContext, contract: PapayContract, change: 'ADD' | 'DELETE'): Record<string, string> {
  const w = ctx.keys.wechat;
  return {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    result_code: 'SUCCESS',
    mch_id: w.mchId,
    appid: w.appId,
    contract_code: contract.contractCode,
    plan_id: contract.planId,
    openid: contract.openid,
    change_type: change,
    operate_time: beijingDateTime(change === 'ADD' ? contract.signedAt : (contract.terminatedAt ?? new Date())),
    contract_id: contract.contractId,
    contract_expired_time: beijingDateTime(contract.expiresAt),
    request_serial: contract.requestSerial,
    ...(change === 'DELETE' ? { contract_termination_mode: String(contract.terminationMode ?? 3) } : {}),
  };
}

/** The payment result of a pay-and-sign order, or the result of a deduction (trade_type PAP). */
export function orderResultFields(ctx: SandboxContext, order: PapayOrder): Record<string, string> {
  const w = ctx.keys.wechat;
  const paid = order.state === 'SUCCESS';
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: order.appid,
    mch_id: w.mchId,
    nonce_str: randomAlnum(32),
    result_code: paid ? 'SUCCESS' : 'FAIL',
    out_trade_no: order.outTradeNo,
    trade_type: order.tradeType,
    total_fee: String(order.totalFen),
    fee_type: 'CNY',
  };
  if (order.openid) fields.openid = order.openid;
  if (order.kind === 'pappayapply') {
    fields.contract_id = order.contractId ?? '';
    fields.trade_state = paid ? 'SUCCESS' : 'PAY_FAIL';
  }
  if (paid) {
    Object.assign(fields, {
      transaction_id: order.transactionId ?? '',
      cash_fee: String(order.totalFen),
      bank_type: 'OTHERS',
      is_subscribe: 'N',
      time_end: v2Time(order.timeEnd ?? new Date()),
    });
  } else {
    Object.assign(fields, { err_code: order.errCode ?? 'TRADE_ERROR', err_code_des: order.errCodeDes ?? '扣款失败' });
  }
  return fields;
}

export function prepareV2Callback(
  ctx: SandboxContext,
  url: string,
  fields: Record<string, string>,
  type: V2SignType,
  tamper?: PapayTamper,
): PreparedNotification {
  const body = buildV2Xml(signWith(fields, ctx.keys.wechat.apiV2Key, type, tamper));
  const notificationId = uuid();
  return {
    notificationId,
    url,
    build: () => ({ url, headers: { 'Content-Type': 'text/xml; charset=utf-8', 'User-Agent': 'Mozilla/4.0 (sandbox)' }, body }),
  };
}

export interface CallbackDelivery {
  copies?: number;
  concurrent?: boolean;
}

/** Sends one callback (its resends go on in the background) and records it on `records`. */
export async function sendV2Callback(
  ctx: SandboxContext,
  prepared: PreparedNotification,
  records: DeliveryRecord[],
  opts: CallbackDelivery = {},
): Promise<DeliveryRecord> {
  const record = newDeliveryRecord(prepared);
  records.push(record);
  await ctx.notifier.deliver({
    record,
    build: (n) => prepared.build(n),
    accepts: v2Accepts,
    retryIntervalsMs: PAPAY_RETRY_INTERVALS_MS,
    copies: opts.copies ?? 1,
    concurrent: opts.concurrent ?? false,
  });
  return record;
}
