// `POST /sandbox/refunds/settle` and `GET /sandbox/refunds/{no}`: finish a refund left unfinished
// (the refund-later fault), move a WeChat Pay refund to SUCCESS / ABNORMAL / CLOSED, or send its
// notification again — duplicated, tampered, with fields overridden or handed back to the test (see sandbox/README.md).
import { completeAlipayRefund } from '../alipay/refund';
import { isPlainObject } from '../http';
import type { SandboxContext } from '../context';
import { strangerKey } from '../keys';
import type { WechatRefundStatus } from '../store';
import { WECHAT_TAMPERS, type WechatTamper } from '../wechat/notification';
import { finishRefund, refundObject, type RefundDelivery } from '../wechat/refund';
import type { ControlAnswer } from './pay';

const refuse = (status: number, error: string): ControlAnswer => ({ status, body: { error } });
const DELIVERIES: readonly RefundDelivery[] = ['normal', 'duplicate', 'concurrent', 'drop', 'none'];
const ENDINGS: readonly string[] = ['SUCCESS', 'ABNORMAL', 'CLOSED'];

export async function settleRefund(ctx: SandboxContext, body: Record<string, unknown>): Promise<ControlAnswer> {
  const provider = body.provider ?? (typeof body.out_refund_no === 'string' ? 'wechat' : 'alipay');
  if (provider === 'alipay') {
    const { out_trade_no: outTradeNo, out_request_no: requestNo } = body;
    if (typeof outTradeNo !== 'string' || typeof requestNo !== 'string')
      return refuse(400, 'Alipay: give "out_trade_no" and "out_request_no"');
    const order = ctx.store.alipay.get(outTradeNo);
    const refund = ctx.store.alipayRefunds.get(`${outTradeNo} ${requestNo}`);
    if (!order || !refund) return refuse(404, `unknown refund ${requestNo} of ${outTradeNo}`);
    if (body.status !== undefined && body.status !== 'SUCCESS') return refuse(400, 'Alipay refunds can only be settled as SUCCESS');
    if (refund.status !== 'success') completeAlipayRefund(ctx.store, order, refund, new Date());
    return { status: 200, body: { provider: 'alipay', out_trade_no: outTradeNo, out_request_no: requestNo, status: 'REFUND_SUCCESS' } };
  }
  if (provider !== 'wechat') return refuse(400, "provider must be 'wechat' or 'alipay'");
  const outRefundNo = body.out_refund_no;
  if (typeof outRefundNo !== 'string') return refuse(400, 'WeChat Pay: give "out_refund_no"');
  const refund = ctx.store.wechatRefunds.get(outRefundNo);
  if (!refund) return refuse(404, `unknown out_refund_no: ${outRefundNo}`);
  const status = (body.status ?? (refund.status === 'PROCESSING' ? 'SUCCESS' : refund.status)) as WechatRefundStatus;
  if (!ENDINGS.includes(status)) return refuse(400, `status must be one of ${ENDINGS.join(', ')}`);
  if ((refund.status === 'SUCCESS' || refund.status === 'CLOSED') && status !== refund.status) {
    return refuse(409, `refund ${outRefundNo} is ${refund.status}, which is final`);
  }
  const delivery = (body.delivery ?? 'normal') as RefundDelivery;
  if (!DELIVERIES.includes(delivery)) return refuse(400, `delivery must be one of ${DELIVERIES.join(', ')}`);
  const copies = body.copies ?? (delivery === 'duplicate' || delivery === 'concurrent' ? 2 : 1);
  if (!Number.isInteger(copies) || (copies as number) < 1 || (copies as number) > 100)
    return refuse(400, 'copies must be an integer 1..100');
  if (body.tamper !== undefined && !WECHAT_TAMPERS.includes(body.tamper as WechatTamper)) {
    return refuse(400, `tamper must be one of ${WECHAT_TAMPERS.join(', ')}`);
  }
  if (body.override !== undefined && !isPlainObject(body.override)) return refuse(400, 'override must be an object');
  const tamper = body.tamper as WechatTamper | undefined;
  try {
    const result = await finishRefund(
      ctx,
      refund,
      status as Exclude<WechatRefundStatus, 'PROCESSING'>,
      {
        signWith: 'public-key',
        tamper,
        stranger: tamper === 'wrong-key' ? await strangerKey() : undefined,
        override: body.override as Record<string, unknown> | undefined,
      },
      delivery,
      copies as number,
    );
    return { status: 200, body: result };
  } catch (e) {
    return refuse(409, (e as Error).message);
  }
}

export function showRefund(ctx: SandboxContext, no: string, url: URL): ControlAnswer {
  const wechat = ctx.store.wechatRefunds.get(no);
  if (wechat && url.searchParams.get('provider') !== 'alipay') {
    return { status: 200, body: { provider: 'wechat', ...refundObject(ctx, wechat), notifications: wechat.notifications } };
  }
  const outTradeNo = url.searchParams.get('out_trade_no');
  const alipay = outTradeNo
    ? ctx.store.alipayRefunds.get(`${outTradeNo} ${no}`)
    : [...ctx.store.alipayRefunds.values()].find((r) => r.outRequestNo === no);
  if (alipay) {
    return {
      status: 200,
      body: {
        provider: 'alipay',
        out_trade_no: alipay.outTradeNo,
        out_request_no: alipay.outRequestNo,
        refund_fen: alipay.refundFen,
        status: alipay.status,
      },
    };
  }
  return refuse(404, `unknown refund ${no}`);
}
