// `/sandbox/contracts/*`: the member's side of auto-renewal (docs/contracts.md) for people and tests.
//   GET  /sandbox/contracts/sign?qr=…  the signing page for a WeChat pay-and-sign code_url or an Alipay agreement page URL
//   POST /sandbox/contracts/sign       {qr, tamper?, delivery?}: pay the first period and sign (WeChat), or sign (Alipay)
//   POST /sandbox/contracts/unsign     {contract_id | agreement_no, notify_url?}: the member ends it inside WeChat / Alipay
//   POST /sandbox/contracts/resend     {out_trade_no, copies?, concurrent?}: the deduction's result called back again
//   GET  /sandbox/contracts/:id        a contract (contract_id) or agreement (agreement_no) with its callbacks
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from '../context';
import { send, sendJson } from '../http';
import { strangerKey } from '../keys';
import { fenToYuan } from '../money';
import { renderSignPage } from '../page';
import type { AlipayAgreement, PapayContract } from '../store';
import {
  openAgreementPage,
  prepareAgreementNotification,
  sendAlipayNotification,
  signAgreement,
  unsignAgreement,
} from '../alipay/agreement';
import { prepareAlipayNotification } from '../alipay/notification';
import type { AlipayTamper } from '../alipay/notification';
import { payAndSign, terminateContract } from '../wechat/papay';
import {
  contractCallbackFields,
  orderResultFields,
  PAPAY_TAMPERS,
  prepareV2Callback,
  sendV2Callback,
  type PapayTamper,
} from '../wechat/papay-callbacks';
import type { ControlAnswer } from './pay';

const refuse = (status: number, error: string): ControlAnswer => ({ status, body: { error } });
const MAX_COPIES = 1000;

/** What a QR (or page URL) names: a WeChat pay-and-sign order, or an Alipay agreement page. */
type SignTarget = { provider: 'wechat'; outTradeNo: string } | { provider: 'alipay'; agreement: AlipayAgreement };

function targetOf(ctx: SandboxContext, qr: string): SignTarget | ControlAnswer {
  const ref = ctx.store.findQr(qr);
  if (ref?.contract) return { provider: 'wechat', outTradeNo: ref.outTradeNo };
  if (qr.includes('/gateway.do?')) {
    // The page again once signed (the browser comes back to it after signing): the agreement as it is now.
    const signed = signedAgreementOf(ctx, qr);
    if (signed) return { provider: 'alipay', agreement: signed };
    const opened = openAgreementPage(ctx, qr, new Date());
    return typeof opened === 'string'
      ? refuse(400, `Alipay refuses this agreement page: ${opened}`)
      : { provider: 'alipay', agreement: opened };
  }
  return refuse(404, `not a pay-and-sign code_url or an agreement page URL: ${qr}`);
}

/** The agreement an agreement page URL names, once it is no longer waiting to be signed. */
function signedAgreementOf(ctx: SandboxContext, qr: string): AlipayAgreement | undefined {
  let external: unknown;
  try {
    external = (JSON.parse(new URL(qr).searchParams.get('biz_content') ?? '{}') as { external_agreement_no?: unknown })
      .external_agreement_no;
  } catch {
    return undefined;
  }
  const known = typeof external === 'string' ? ctx.store.findAgreementByExternal(external) : undefined;
  return known && known.status !== 'TEMP' ? known : undefined;
}

/** The signing page's summary of what the member agrees to. */
function describe(ctx: SandboxContext, target: SignTarget): Record<string, string> {
  if (target.provider === 'wechat') {
    const order = ctx.store.papayOrders.get(target.outTradeNo)!;
    return {
      provider: 'WeChat Pay (微信支付) — 支付并签约',
      title: order.body,
      amount: `¥${fenToYuan(order.totalFen)} now, then by contract`,
      contract: order.sign ? `template ${order.sign.planId}, ${order.sign.displayAccount}` : 'none (the contract half was refused)',
      state: order.state,
      signable: String(order.state === 'NOTPAY'),
      // Pay-and-sign: the one button pays the first period and signs.
      button: `确认签约并支付 · Sign and pay ¥${fenToYuan(order.totalFen)}`,
    };
  }
  const a = target.agreement;
  return {
    provider: 'Alipay (支付宝) — 商家扣款协议',
    title: a.externalAgreementNo,
    amount: `up to ¥${fenToYuan(a.singleFen)} every ${a.period} ${a.periodType === 'MONTH' ? 'month(s)' : 'day(s)'}, from ${a.executeTime}`,
    contract: `${a.signScene}, channel ${a.channel}`,
    state: a.status,
    signable: String(a.status === 'TEMP'),
  };
}

async function sign(ctx: SandboxContext, body: Record<string, unknown>): Promise<ControlAnswer> {
  if (typeof body.qr !== 'string' || body.qr === '') return refuse(400, 'give "qr": the code_url or the agreement page URL');
  const tamper = body.tamper as PapayTamper | undefined;
  if (tamper !== undefined && !PAPAY_TAMPERS.includes(tamper)) return refuse(400, `tamper must be one of ${PAPAY_TAMPERS.join(', ')}`);
  const delivery = body.delivery ?? 'normal';
  if (delivery !== 'normal' && delivery !== 'drop') return refuse(400, "delivery must be 'normal' or 'drop'");
  const target = targetOf(ctx, body.qr);
  if ('status' in target) return target;
  const now = new Date();
  if (target.provider === 'wechat') {
    const order = ctx.store.papayOrders.get(target.outTradeNo)!;
    if (order.state !== 'NOTPAY') return refuse(409, `order ${order.outTradeNo} is ${order.state}: it cannot be paid`);
    const contract = payAndSign(ctx, order, now);
    const answer = {
      provider: 'wechat',
      out_trade_no: order.outTradeNo,
      transaction_id: order.transactionId,
      contract_id: contract?.contractId ?? null,
      openid: order.openid,
    };
    if (delivery === 'drop') return { status: 200, body: { ...answer, note: 'callbacks dropped' } };
    const paid = await sendV2Callback(
      ctx,
      prepareV2Callback(ctx, order.notifyUrl, orderResultFields(ctx, order), order.signType, tamper),
      order.notifications,
    );
    const signed = contract
      ? await sendV2Callback(
          ctx,
          prepareV2Callback(ctx, contract.notifyUrl, contractCallbackFields(ctx, contract, 'ADD'), contract.signType, tamper),
          contract.notifications,
        )
      : null;
    return {
      status: 200,
      body: { ...answer, payment_callback_delivered: paid.delivered, contract_callback_delivered: signed?.delivered ?? null },
    };
  }
  const a = target.agreement;
  if (a.status !== 'TEMP') return refuse(409, `agreement ${a.agreementNo} is ${a.status}`);
  signAgreement(a, now);
  ctx.log(`[alipay] member signed agreement ${a.agreementNo}`);
  const answer = {
    provider: 'alipay',
    agreement_no: a.agreementNo,
    external_agreement_no: a.externalAgreementNo,
    alipay_user_id: a.alipayUserId,
  };
  if (delivery === 'drop' || !a.notifyUrl)
    return { status: 200, body: { ...answer, note: a.notifyUrl ? 'notification dropped' : 'no notify_url: nothing sent' } };
  const stranger = tamper === 'wrong-key' ? await strangerKey() : undefined;
  const record = await sendAlipayNotification(
    ctx,
    prepareAgreementNotification(ctx, a, 'dut_user_sign', a.notifyUrl, tamper as AlipayTamper | undefined, stranger),
    a.notifications,
  );
  return { status: 200, body: { ...answer, delivered: record.delivered } };
}

async function unsign(ctx: SandboxContext, body: Record<string, unknown>): Promise<ControlAnswer> {
  const notifyUrl = typeof body.notify_url === 'string' ? body.notify_url : undefined;
  if (typeof body.contract_id === 'string') {
    const contract = ctx.store.papayContracts.get(body.contract_id);
    if (!contract) return refuse(404, `unknown contract_id ${body.contract_id}`);
    const sent = terminateContract(ctx, contract, 2, '用户在微信中解约', notifyUrl);
    if (!sent) return refuse(409, `contract ${contract.contractId} is already terminated`);
    await sent;
    return { status: 200, body: contractView(contract) };
  }
  if (typeof body.agreement_no === 'string') {
    const a = ctx.store.agreements.get(body.agreement_no);
    if (!a) return refuse(404, `unknown agreement_no ${body.agreement_no}`);
    // A member's own unsign goes to the application's gateway address (docs/contracts.md): here the
    // address the agreement was signed with, unless the test names another.
    const sent = unsignAgreement(ctx, a, notifyUrl ?? a.notifyUrl);
    if (!sent) return refuse(409, `agreement ${a.agreementNo} is ${a.status}`);
    await sent;
    return { status: 200, body: agreementView(a) };
  }
  return refuse(400, 'give "contract_id" (WeChat Pay) or "agreement_no" (Alipay)');
}

async function resend(ctx: SandboxContext, body: Record<string, unknown>): Promise<ControlAnswer> {
  const copies = body.copies === undefined ? 1 : Number(body.copies);
  if (!Number.isInteger(copies) || copies < 1 || copies > MAX_COPIES) return refuse(400, `copies must be an integer 1..${MAX_COPIES}`);
  const concurrent = body.concurrent === true;
  if (typeof body.out_trade_no !== 'string') return refuse(400, 'give "out_trade_no" of a deduction');
  const order = ctx.store.papayOrders.get(body.out_trade_no);
  if (order) {
    if (order.state !== 'SUCCESS' && order.state !== 'PAY_FAIL')
      return refuse(409, `order ${order.outTradeNo} is ${order.state}: no result yet`);
    const record = await sendV2Callback(
      ctx,
      prepareV2Callback(ctx, order.notifyUrl, orderResultFields(ctx, order), order.signType),
      order.notifications,
      { copies, concurrent },
    );
    return {
      status: 200,
      body: { provider: 'wechat', out_trade_no: order.outTradeNo, delivered: record.delivered, attempts: record.attempts.length },
    };
  }
  const trade = ctx.store.alipay.get(body.out_trade_no);
  if (trade?.trade && trade.notifyUrl) {
    const record = await sendAlipayNotification(
      ctx,
      prepareAlipayNotification(ctx.keys.alipay, trade, {}),
      trade.notifications,
      copies,
      concurrent,
    );
    return {
      status: 200,
      body: { provider: 'alipay', out_trade_no: trade.outTradeNo, delivered: record.delivered, attempts: record.attempts.length },
    };
  }
  return refuse(404, `no deduction ${body.out_trade_no} with a result to send`);
}

function contractView(c: PapayContract): Record<string, unknown> {
  return {
    provider: 'wechat',
    contract_id: c.contractId,
    contract_code: c.contractCode,
    plan_id: c.planId,
    openid: c.openid,
    state: c.state,
    signed_at: c.signedAt.toISOString(),
    terminated_at: c.terminatedAt?.toISOString() ?? null,
    termination_mode: c.terminationMode ?? null,
    notice: c.notice ? { ...JSON.parse(c.notice.fingerprint), at: c.notice.at.toISOString() } : null,
    notifications: c.notifications,
  };
}

function agreementView(a: AlipayAgreement): Record<string, unknown> {
  return {
    provider: 'alipay',
    agreement_no: a.agreementNo,
    external_agreement_no: a.externalAgreementNo,
    status: a.status,
    single_amount: fenToYuan(a.singleFen),
    period: `${a.period} ${a.periodType}`,
    execute_time: a.executeTime,
    deductions: a.deductions,
    notifications: a.notifications,
  };
}

export async function handleContractControl(
  ctx: SandboxContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  url: URL,
  body: Record<string, unknown>,
): Promise<void> {
  const method = req.method ?? 'GET';
  const html = { 'Content-Type': 'text/html; charset=utf-8' };
  if (path === '/sandbox/contracts/sign' && method === 'GET') {
    const qr = url.searchParams.get('qr') ?? '';
    const target = targetOf(ctx, qr);
    if ('status' in target) return send(res, target.status, renderSignPage(null, qr, String(target.body.error)), html);
    return send(res, 200, renderSignPage(describe(ctx, target), qr, url.searchParams.get('message') ?? undefined), html);
  }
  if (path === '/sandbox/contracts/sign' && method === 'POST') {
    const answer = await sign(ctx, body);
    if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') && typeof body.qr === 'string') {
      const message =
        answer.status !== 200
          ? String(answer.body.error)
          : answer.body.provider === 'wechat'
            ? 'Paid and signed (支付并签约成功).'
            : 'Signed (签约成功).';
      return send(res, 303, '', {
        Location: `/sandbox/contracts/sign?qr=${encodeURIComponent(body.qr)}&message=${encodeURIComponent(message)}`,
      });
    }
    return sendJson(res, answer.status, answer.body);
  }
  if (path === '/sandbox/contracts/unsign' && method === 'POST') {
    const answer = await unsign(ctx, body);
    return sendJson(res, answer.status, answer.body);
  }
  if (path === '/sandbox/contracts/resend' && method === 'POST') {
    const answer = await resend(ctx, body);
    return sendJson(res, answer.status, answer.body);
  }
  const one = /^\/sandbox\/contracts\/([^/]+)$/.exec(path);
  if (one && method === 'GET') {
    const id = decodeURIComponent(one[1]);
    const contract = ctx.store.papayContracts.get(id);
    if (contract) return sendJson(res, 200, contractView(contract));
    const agreement = ctx.store.agreements.get(id) ?? ctx.store.findAgreementByExternal(id);
    if (agreement) return sendJson(res, 200, agreementView(agreement));
    return sendJson(res, 404, { error: `no contract or agreement ${id}` });
  }
  sendJson(res, 404, { error: `no control endpoint ${method} ${path}` });
}
