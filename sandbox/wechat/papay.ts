// WeChat Pay API v2, the contract product (docs/contracts.md#calls): pay-and-sign (`/pay/contractorder`),
// deductions (`/pay/pappayapply`, `/pay/paporderquery`, `/pay/closeorder`), contracts
// (`/papay/querycontract`, `/papay/deletecontract`). XML in, XML out; every call is verified against the
// API v2 key (MD5 or HMAC-SHA256, as it declares) and answered signed the same way. A pending fault
// (sandbox/README.md#contracts) is applied after the signature check, as for the v3 API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { SandboxContext } from '../context';
import type { ContractOp, FaultMode } from '../faults';
import { send } from '../http';
import { randomAlnum, randomDigits } from '../ids';
import { noticeModeOf } from '../keys';
import { beijingDateTime } from '../clock';
import type { PapayContract, PapayOrder } from '../store';
import { checkNotifyUrl } from './native-order';
import { contractCallbackFields, orderResultFields, prepareV2Callback, sendV2Callback, v2Time } from './papay-callbacks';
import { buildV2Xml, declaredSignType, parseV2Xml, signedV2, v2ReturnFail, v2Verify, type V2SignType } from './v2-xml';

const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const TRADE_TYPES = ['NATIVE', 'JSAPI', 'APP', 'MWEB'] as const;
/** A contract the sandbox signs stays valid this long unless terminated. */
const CONTRACT_VALIDITY_MS = 10 * 365 * 24 * 3600_000;
/** docs/contracts.md#when-a-deduction-may-run: within 12 h of signing an apply needs no notice. */
const FRESH_SIGNING_MS = 12 * 3600_000;

type Fields = Record<string, string>;
/** A business answer: `result_code` SUCCESS with these fields, or FAIL with an err_code. */
type Outcome = { ok: true; fields: Fields; after?: () => void } | { ok: false; errCode: string; errCodeDes: string; fields?: Fields };
/** A call that cannot be read at all: `return_code` FAIL, unsigned. */
class ReturnFail extends Error {}

const fail = (errCode: string, errCodeDes: string, fields?: Fields): Outcome => ({ ok: false, errCode, errCodeDes, fields });

function required(fields: Fields, ...names: string[]): void {
  for (const name of names) if (!fields[name]) throw new ReturnFail(`缺少参数${name}`);
}

function totalFee(fields: Fields): number {
  const fee = fields.total_fee;
  if (!/^[1-9]\d{0,9}$/.test(fee ?? '')) throw new ReturnFail('total_fee 必须为正整数（分）');
  return Number(fee);
}

/** No 4-byte UTF-8 characters (emoji) anywhere: docs/contracts.md#the-v2-signature. */
function hasAstral(fields: Fields): boolean {
  return Object.values(fields).some((v) => [...v].some((ch) => (ch.codePointAt(0) ?? 0) > 0xffff));
}

function transactionId(now: Date): string {
  return `4200${beijingDateTime(now).slice(0, 10).replace(/-/g, '')}${randomDigits(16)}`;
}

function newOpenid(): string {
  return `oSandbox${randomBytes(15).toString('base64url').slice(0, 20)}`;
}

function contractOrder(ctx: SandboxContext, f: Fields, type: V2SignType, now: Date): Outcome {
  required(f, 'appid', 'mch_id', 'contract_appid', 'contract_mchid', 'out_trade_no', 'body', 'total_fee', 'spbill_create_ip');
  required(f, 'notify_url', 'trade_type', 'plan_id', 'contract_code', 'request_serial', 'contract_display_account', 'contract_notify_url');
  if (f.contract_appid !== f.appid || f.contract_mchid !== f.mch_id)
    return fail('PARAM_ERROR', 'contract_appid/contract_mchid 须与 appid/mch_id 一致');
  if (!OUT_TRADE_NO.test(f.out_trade_no)) return fail('PARAM_ERROR', 'out_trade_no 应为6-32位数字、大小写字母、_-|*');
  const total = totalFee(f);
  if (!(TRADE_TYPES as readonly string[]).includes(f.trade_type)) return fail('PARAM_ERROR', 'trade_type 取值错误');
  if (f.trade_type === 'NATIVE' && !f.product_id) return fail('PARAM_ERROR', 'trade_type=NATIVE 时 product_id 为必填');
  if (f.trade_type === 'JSAPI' && !f.openid) return fail('PARAM_ERROR', 'trade_type=JSAPI 时 openid 为必填');
  for (const name of ['notify_url', 'contract_notify_url']) {
    const issue = checkNotifyUrl(f[name]);
    if (issue) return fail('PARAM_ERROR', issue.replace('notify_url', name));
  }
  if (!/^[1-9]\d{0,18}$/.test(f.request_serial)) return fail('PARAM_ERROR', 'request_serial 须为不以0开头的整数');
  const fingerprint = JSON.stringify([f.appid, f.body, total, f.trade_type, f.plan_id, f.contract_code, f.request_serial, f.notify_url]);
  const existing = ctx.store.papayOrders.get(f.out_trade_no);
  if (existing) {
    if (existing.state === 'SUCCESS') return fail('ORDERPAID', '该订单已支付');
    if (existing.state === 'CLOSED') return fail('ORDERCLOSED', '订单已关闭');
    if (existing.fingerprint !== fingerprint) return fail('OUT_TRADE_NO_USED', '商户订单号重复');
    return { ok: true, fields: contractOrderAnswer(existing) };
  }
  // The contract half is refused without refusing the order (docs/contracts.md#calls: contract_result_code).
  let contractError: [string, string] | null = null;
  const serial = BigInt(f.request_serial);
  if (!noticeModeOf(f.plan_id)) contractError = ['PLAN_ID_NOT_EXIST', '模板不存在'];
  else if (serial <= ctx.store.lastRequestSerial) contractError = ['REQUEST_SERIAL_INVALID', 'request_serial 须递增'];
  else if (f.contract_code.length > 32) contractError = ['PARAM_ERROR', 'contract_code 最长32位'];
  if (serial > ctx.store.lastRequestSerial) ctx.store.lastRequestSerial = serial;
  const order: PapayOrder = {
    kind: 'contractorder',
    outTradeNo: f.out_trade_no,
    appid: f.appid,
    body: f.body,
    totalFen: total,
    notifyUrl: f.notify_url,
    tradeType: f.trade_type as PapayOrder['tradeType'],
    signType: type,
    fingerprint,
    createdAt: now,
    state: 'NOTPAY',
    openid: f.openid || undefined,
    sign: contractError
      ? undefined
      : {
          planId: f.plan_id,
          contractCode: f.contract_code,
          requestSerial: f.request_serial,
          displayAccount: f.contract_display_account,
          contractNotifyUrl: f.contract_notify_url,
        },
    notifications: [],
  };
  if (f.trade_type === 'NATIVE') {
    order.codeUrl = `weixin://wxpay/bizpayurl?pr=${randomAlnum(10)}`;
    ctx.store.rememberQr(order.codeUrl, { provider: 'wechat', outTradeNo: order.outTradeNo, issuedAt: now, contract: true });
  }
  ctx.store.papayOrders.set(order.outTradeNo, order);
  ctx.log(
    `[wechat] contractorder ${order.outTradeNo} ${total} fen plan ${f.plan_id}${contractError ? ` (contract refused: ${contractError[0]})` : ''}`,
  );
  const answer = contractOrderAnswer(order);
  if (contractError)
    Object.assign(answer, { contract_result_code: 'FAIL', contract_err_code: contractError[0], contract_err_code_des: contractError[1] });
  return { ok: true, fields: answer };
}

function contractOrderAnswer(order: PapayOrder): Fields {
  const fields: Fields = {
    trade_type: order.tradeType,
    prepay_id: `wx${v2Time(order.createdAt)}${order.outTradeNo.slice(-8)}`,
    contract_result_code: order.sign ? 'SUCCESS' : 'FAIL',
  };
  if (order.codeUrl) fields.code_url = order.codeUrl;
  if (order.tradeType === 'MWEB') fields.mweb_url = `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=${fields.prepay_id}`;
  if (order.sign)
    Object.assign(fields, { plan_id: order.sign.planId, contract_code: order.sign.contractCode, request_serial: order.sign.requestSerial });
  return fields;
}

/**
 * A paid contract order also exists as a v3 trade of the same merchant, so the v3 query, refund and bill
 * serve it (docs/contracts.md#calls: refunds of renewal orders go through the v3 refund API).
 */
export function mirrorAsV3Trade(ctx: SandboxContext, order: PapayOrder): void {
  if (order.state !== 'SUCCESS' || ctx.store.wechat.has(order.outTradeNo)) return;
  const paidAt = order.timeEnd ?? new Date();
  ctx.store.wechat.set(order.outTradeNo, {
    outTradeNo: order.outTradeNo,
    tradeType: order.tradeType,
    appid: order.appid,
    mchid: ctx.keys.wechat.mchId,
    description: order.body,
    notifyUrl: order.notifyUrl,
    totalFen: order.totalFen,
    fingerprint: order.fingerprint,
    createdAt: order.createdAt,
    timeExpire: paidAt,
    codeUrl: order.codeUrl ?? '',
    codeUrlIssuedAt: order.createdAt,
    state: 'SUCCESS',
    transactionId: order.transactionId,
    successTime: paidAt,
    payerOpenid: order.openid,
    notifications: [],
  });
}

/** The member pays a pay-and-sign order: the order is paid and, unless its contract half was refused, a contract signed. */
export function payAndSign(ctx: SandboxContext, order: PapayOrder, now: Date): PapayContract | null {
  order.state = 'SUCCESS';
  order.transactionId = transactionId(now);
  order.timeEnd = now;
  order.openid ??= newOpenid();
  mirrorAsV3Trade(ctx, order);
  if (!order.sign) return null;
  const contract: PapayContract = {
    contractId: `2021${v2Time(now).slice(0, 8)}${randomDigits(12)}`,
    contractCode: order.sign.contractCode,
    planId: order.sign.planId,
    openid: order.openid,
    requestSerial: order.sign.requestSerial,
    displayAccount: order.sign.displayAccount,
    notifyUrl: order.sign.contractNotifyUrl,
    signType: order.signType,
    state: 'signed',
    signedAt: now,
    expiresAt: new Date(now.getTime() + CONTRACT_VALIDITY_MS),
    notifications: [],
  };
  order.contractId = contract.contractId;
  ctx.store.papayContracts.set(contract.contractId, contract);
  ctx.log(`[wechat] member paid ${order.outTradeNo} and signed contract ${contract.contractId}`);
  return contract;
}

function findContract(ctx: SandboxContext, f: Fields): PapayContract | undefined {
  return ctx.store.findPapayContract({ contractId: f.contract_id, planId: f.plan_id, contractCode: f.contract_code });
}

function applyDeduction(ctx: SandboxContext, f: Fields, type: V2SignType, now: Date, fault: FaultMode | undefined): Outcome {
  required(f, 'appid', 'mch_id', 'body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type', 'contract_id');
  if (f.trade_type !== 'PAP') return fail('PARAM_ERROR', 'trade_type 必须为 PAP');
  if (!OUT_TRADE_NO.test(f.out_trade_no)) return fail('PARAM_ERROR', 'out_trade_no 应为6-32位数字、大小写字母、_-|*');
  const total = totalFee(f);
  const issue = checkNotifyUrl(f.notify_url);
  if (issue) return fail('PARAM_ERROR', issue);
  const contract = ctx.store.papayContracts.get(f.contract_id);
  if (!contract || contract.state !== 'signed') return fail('CONTRACT_NOT_EXIST', '签约协议不存在或已解约');
  const existing = ctx.store.papayOrders.get(f.out_trade_no);
  if (existing) {
    if (existing.state === 'SUCCESS') return fail('ORDERPAID', '该订单已支付');
    if (existing.state === 'ACCEPT') return fail('ORDER_ACCEPTED', '订单已受理，请勿重复提交');
    // A failed or closed number is never charged again: a retry takes a new out_trade_no.
    return fail('INVALID_REQUEST', '该商户订单号已扣款失败或已关闭，请使用新的商户订单号');
  }
  if (fault === 'cycle-limit') return fail('RULELIMIT', '本周期扣款次数已达上限');
  if (noticeModeOf(contract.planId) === 'merchant' && now.getTime() - contract.signedAt.getTime() > FRESH_SIGNING_MS) {
    if (!contract.notice) return fail('INVALID_REQUEST', '本周期未发送预扣费通知');
    const estimated = (JSON.parse(contract.notice.fingerprint) as [number, number])[1];
    if (total > estimated) return fail('INVALID_REQUEST', '扣款金额超过预扣费通知的预估金额');
  }
  const order: PapayOrder = {
    kind: 'pappayapply',
    outTradeNo: f.out_trade_no,
    appid: f.appid,
    body: f.body,
    totalFen: total,
    notifyUrl: f.notify_url,
    tradeType: 'PAP',
    signType: type,
    fingerprint: JSON.stringify([f.contract_id, total, f.body]),
    createdAt: now,
    state: 'ACCEPT',
    contractId: contract.contractId,
    openid: contract.openid,
    notifications: [],
  };
  ctx.store.papayOrders.set(order.outTradeNo, order);
  // The charge runs right after the answer (docs/contracts.md: within 12 h of signing, at once; the sandbox
  // does not hold a WeChat-notified template's order for a day). Its result is then called back.
  const after = () => {
    if (fault === 'declined') {
      Object.assign(order, { state: 'PAY_FAIL', errCode: 'NOTENOUGH', errCodeDes: '余额不足' });
    } else {
      Object.assign(order, { state: 'SUCCESS', transactionId: transactionId(new Date()), timeEnd: new Date() });
      delete contract.notice; // the next cycle needs a new notice
      mirrorAsV3Trade(ctx, order);
    }
    ctx.log(`[wechat] deduction ${order.outTradeNo} ${order.totalFen} fen -> ${order.state}${order.errCode ? ` ${order.errCode}` : ''}`);
    if (fault === 'no-callback') return;
    void sendV2Callback(ctx, prepareV2Callback(ctx, order.notifyUrl, orderResultFields(ctx, order), order.signType), order.notifications);
  };
  return { ok: true, fields: { contract_id: contract.contractId, out_trade_no: order.outTradeNo }, after };
}

function queryDeduction(ctx: SandboxContext, f: Fields): Outcome {
  if (!f.out_trade_no && !f.transaction_id) throw new ReturnFail('out_trade_no 和 transaction_id 不能同时为空');
  const order = f.transaction_id
    ? [...ctx.store.papayOrders.values()].find((o) => o.transactionId === f.transaction_id)
    : ctx.store.papayOrders.get(f.out_trade_no);
  if (!order) return fail('ORDERNOTEXIST', '此交易订单号不存在');
  const fields: Fields = {
    out_trade_no: order.outTradeNo,
    trade_type: order.tradeType,
    trade_state: order.state,
    trade_state_desc: { NOTPAY: '未支付', ACCEPT: '已接收，等待扣款', SUCCESS: '支付成功', PAY_FAIL: '支付失败', CLOSED: '已关闭' }[
      order.state
    ],
    total_fee: String(order.totalFen),
    fee_type: 'CNY',
  };
  if (order.contractId) fields.contract_id = order.contractId;
  if (order.openid) fields.openid = order.openid;
  if (order.state === 'SUCCESS') {
    Object.assign(fields, {
      transaction_id: order.transactionId ?? '',
      cash_fee: String(order.totalFen),
      time_end: v2Time(order.timeEnd ?? new Date()),
    });
  }
  if (order.state === 'PAY_FAIL') Object.assign(fields, { err_code: order.errCode ?? '', err_code_des: order.errCodeDes ?? '' });
  return { ok: true, fields };
}

function closeOrder(ctx: SandboxContext, f: Fields): Outcome {
  required(f, 'out_trade_no');
  const order = ctx.store.papayOrders.get(f.out_trade_no);
  if (!order) return fail('ORDERNOTEXIST', '此交易订单号不存在');
  if (order.state === 'SUCCESS') return fail('ORDERPAID', '订单已支付');
  if (order.state === 'NOTPAY' || order.state === 'ACCEPT') order.state = 'CLOSED';
  return { ok: true, fields: {} };
}

function contractFields(contract: PapayContract): Fields {
  const fields: Fields = {
    contract_id: contract.contractId,
    plan_id: contract.planId,
    contract_code: contract.contractCode,
    request_serial: contract.requestSerial,
    contract_display_account: contract.displayAccount,
    openid: contract.openid,
    contract_state: contract.state === 'signed' ? '0' : '1',
    contract_signed_time: beijingDateTime(contract.signedAt),
    contract_expired_time: beijingDateTime(contract.expiresAt),
  };
  if (contract.terminatedAt) {
    fields.contract_terminated_time = beijingDateTime(contract.terminatedAt);
    fields.contract_termination_mode = String(contract.terminationMode ?? 3);
  }
  return fields;
}

function queryContract(ctx: SandboxContext, f: Fields): Outcome {
  if (f.version !== '1.0') throw new ReturnFail('version 须为 1.0');
  if (!f.contract_id && !(f.plan_id && f.contract_code)) throw new ReturnFail('contract_id 或 plan_id+contract_code 必填');
  const contract = findContract(ctx, f);
  if (!contract) return fail('CONTRACT_NOT_EXIST', '签约协议不存在');
  return { ok: true, fields: contractFields(contract) };
}

/** Ends a contract, by the merchant's API (mode 3) or by the member (mode 2, the control endpoint), and calls back. */
export function terminateContract(
  ctx: SandboxContext,
  contract: PapayContract,
  mode: number,
  remark: string,
  notifyUrl?: string,
): Promise<unknown> | null {
  if (contract.state !== 'signed') return null;
  Object.assign(contract, { state: 'terminated', terminatedAt: new Date(), terminationMode: mode, terminationRemark: remark });
  ctx.log(`[wechat] contract ${contract.contractId} terminated (mode ${mode})`);
  const prepared = prepareV2Callback(
    ctx,
    notifyUrl ?? contract.notifyUrl,
    contractCallbackFields(ctx, contract, 'DELETE'),
    contract.signType,
  );
  return sendV2Callback(ctx, prepared, contract.notifications);
}

function deleteContract(ctx: SandboxContext, f: Fields): Outcome {
  if (f.version !== '1.0') throw new ReturnFail('version 须为 1.0');
  required(f, 'contract_termination_remark');
  if (!f.contract_id && !(f.plan_id && f.contract_code)) throw new ReturnFail('contract_id 或 plan_id+contract_code 必填');
  const contract = findContract(ctx, f);
  if (!contract) return fail('CONTRACT_NOT_EXIST', '签约协议不存在');
  // Terminating an ended contract answers as the first time did (a sandbox choice: not documented).
  return {
    ok: true,
    fields: { contract_id: contract.contractId, plan_id: contract.planId, contract_code: contract.contractCode },
    after: () => void terminateContract(ctx, contract, 3, f.contract_termination_remark),
  };
}

const ROUTES: Record<
  string,
  {
    op: Exclude<ContractOp, 'notice'> | 'close';
    run: (ctx: SandboxContext, f: Fields, type: V2SignType, now: Date, fault?: FaultMode) => Outcome;
  }
> = {
  '/pay/contractorder': { op: 'contractorder', run: (ctx, f, type, now) => contractOrder(ctx, f, type, now) },
  '/pay/pappayapply': { op: 'deduct', run: applyDeduction },
  '/pay/paporderquery': { op: 'deduct-query', run: (ctx, f) => queryDeduction(ctx, f) },
  '/pay/closeorder': { op: 'close', run: (ctx, f) => closeOrder(ctx, f) },
  '/papay/querycontract': { op: 'contract-query', run: (ctx, f) => queryContract(ctx, f) },
  '/papay/deletecontract': { op: 'terminate', run: (ctx, f) => deleteContract(ctx, f) },
};

export function isWechatV2Path(path: string): boolean {
  return Object.hasOwn(ROUTES, path);
}

function xml(res: ServerResponse, status: number, text: string): void {
  send(res, status, text, { 'Content-Type': 'text/xml; charset=utf-8' });
}

export function handleWechatV2(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, raw: Buffer, path: string): void {
  const now = new Date();
  const w = ctx.keys.wechat;
  if (req.method !== 'POST') return xml(res, 405, v2ReturnFail('请使用POST'));
  const fields = parseV2Xml(raw.toString('utf8'));
  if (!fields) return xml(res, 200, v2ReturnFail('XML格式错误'));
  const type = declaredSignType(fields);
  if (!type) return xml(res, 200, v2ReturnFail('sign_type 取值错误'));
  if (fields.mch_id !== w.mchId) return xml(res, 200, v2ReturnFail('mch_id 参数错误'));
  if (fields.appid !== undefined && !w.boundAppIds.includes(fields.appid)) return xml(res, 200, v2ReturnFail('appid和mch_id不匹配'));
  if (!v2Verify(fields, w.apiV2Key)) return xml(res, 200, v2ReturnFail('签名错误'));
  if (hasAstral(fields)) return xml(res, 200, v2ReturnFail('参数含有不支持的4字节字符'));
  const route = ROUTES[path];
  const fault = ctx.faults.take('wechat', route.op);
  if (fault) ctx.log(`[wechat] fault ${fault} on ${route.op}`);
  if (fault === 'hang') return;
  if (fault === 'error-500') return xml(res, 500, '<html><body>500 Internal Server Error</body></html>');
  if (fault === 'garbage') return xml(res, 200, '<html><body>502 Bad Gateway (sandbox garbage fault)</body></html>');
  let outcome: Outcome;
  try {
    outcome = route.run(ctx, fields, type, now, fault);
  } catch (err) {
    if (err instanceof ReturnFail) return xml(res, 200, v2ReturnFail(err.message));
    throw err;
  }
  const base: Fields = { return_code: 'SUCCESS', return_msg: 'OK', mch_id: w.mchId, nonce_str: randomAlnum(32) };
  if (fields.appid) base.appid = fields.appid;
  let answer: Fields =
    outcome.ok && fault !== 'system-error-after-commit'
      ? { ...base, result_code: 'SUCCESS', ...outcome.fields }
      : outcome.ok
        ? { ...base, result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统错误' }
        : { ...base, result_code: 'FAIL', err_code: outcome.errCode, err_code_des: outcome.errCodeDes, ...outcome.fields };
  answer = signedV2(answer, w.apiV2Key, type);
  if (fault === 'bad-signature') answer.sign = `${answer.sign.slice(0, -1)}${answer.sign.endsWith('0') ? '1' : '0'}`;
  if (fault === 'unsigned') delete answer.sign;
  xml(res, 200, buildV2Xml(answer));
  if (outcome.ok) outcome.after?.();
}

/** v3 `POST /v3/papay/contracts/{contract_id}/notify` (docs/contracts.md#calls): the merchant's pre-deduction notice. */
export function preDeductionNotice(ctx: SandboxContext, contractId: string, body: unknown, now: Date): { status: number; body?: unknown } {
  const err = (status: number, code: string, message: string) => ({ status, body: { code, message } });
  const w = ctx.keys.wechat;
  if (typeof body !== 'object' || body === null) return err(400, 'PARAM_ERROR', '请求体必须为JSON对象');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked field by field below
  const b = body as Record<string, any>;
  if (b.mchid !== w.mchId) return err(400, 'MCH_NOT_EXISTS', '商户号不存在');
  if (!w.boundAppIds.includes(b.appid)) return err(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
  const count = b.deduct_duration?.count;
  if (!Number.isInteger(count) || count < 1 || count > 3 || b.deduct_duration?.unit !== 'DAY') {
    return err(400, 'PARAM_ERROR', 'deduct_duration.count 取值 1-3，unit 为 DAY');
  }
  const amount = b.estimated_amount?.amount;
  if (!Number.isInteger(amount) || amount < 1 || (b.estimated_amount?.currency ?? 'CNY') !== 'CNY') {
    return err(400, 'PARAM_ERROR', 'estimated_amount.amount 须为正整数（分），currency 为 CNY');
  }
  const contract = ctx.store.papayContracts.get(contractId);
  if (!contract) return err(404, 'RESOURCE_NOT_EXISTS', '签约协议不存在');
  if (contract.state !== 'signed') return err(400, 'INVALID_REQUEST', '签约协议已解约');
  if (noticeModeOf(contract.planId) !== 'merchant') return err(400, 'INVALID_REQUEST', '该模板由微信支付通知用户，无需商户发送预扣费通知');
  const fingerprint = JSON.stringify([count, amount]);
  if (contract.notice) {
    return contract.notice.fingerprint === fingerprint
      ? err(400, 'RESOURCE_ALREADY_EXISTS', '本周期已发送预扣费通知')
      : err(400, 'INVALID_REQUEST', '本周期已发送参数不同的预扣费通知');
  }
  contract.notice = { fingerprint, at: now };
  ctx.log(`[wechat] pre-deduction notice for ${contractId}: ${amount} fen within ${count} day(s)`);
  return { status: 204 };
}
