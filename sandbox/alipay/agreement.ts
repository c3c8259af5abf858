// Alipay 商家扣款 (docs/contracts.md#alipay): the agreement page (`alipay.user.agreement.page.sign`, opened by
// the member from the URL memberpay shows as a QR code), `alipay.user.agreement.query` / `.unsign`, deductions
// by `alipay.trade.pay` with `agreement_params`, and the `dut_user_sign` / `dut_user_unsign` notifications.
// A deduction becomes an ordinary trade, so query, refund and the bill treat it like any other.
import { beijingDateTime } from '../clock';
import type { SandboxContext } from '../context';
import type { FaultMode } from '../faults';
import { isPlainObject } from '../http';
import { randomDigits, randomHex } from '../ids';
import { fenToYuan, yuanToFen } from '../money';
import { newDeliveryRecord, type PreparedNotification } from '../notifier';
import { corruptSignature, signBase64 } from '../rsa';
import type { AlipayAgreement, AlipayOrder } from '../store';
import {
  ALIPAY_RETRY_INTERVALS_MS,
  alipayAccepts,
  notificationSignedContent,
  prepareAlipayNotification,
  type AlipayTamper,
} from './notification';
import { validate } from './precreate';
import { failure, isNode, success, type AlipayNode } from './reply';
import { checkRequest } from './request-check';

export const AGREEMENT_PAGE_METHOD = 'alipay.user.agreement.page.sign';
const PERSONAL_PRODUCT = 'CYCLE_PAY_AUTH_P';
const PRODUCTS = ['GENERAL_WITHHOLDING', 'CYCLE_PAY_AUTH'];
const CHANNELS = ['QRCODE', 'QRCODEORSMS', 'ALIPAYAPP'];
const VALIDITY_MS = 10 * 365 * 24 * 3600_000;

/**
 * The member opens the page URL: the signed request is checked like any gateway call, its business content
 * like Alipay's agreement page, and a TEMP agreement exists from then on (the same URL opened again finds it).
 * A string is why Alipay would show an error page instead.
 */
export function openAgreementPage(ctx: SandboxContext, pageUrl: string, now: Date): AlipayAgreement | string {
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    return 'not a URL';
  }
  const params = Object.fromEntries(url.searchParams);
  if (params.method !== AGREEMENT_PAGE_METHOD) return `method must be ${AGREEMENT_PAGE_METHOD}`;
  const refused = checkRequest(params, ctx.keys.alipay, [AGREEMENT_PAGE_METHOD], now);
  if (refused) return `${refused.code} ${refused.sub_code}: ${refused.sub_msg}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(params.biz_content ?? '');
  } catch {
    return 'biz_content 不是JSON对象';
  }
  if (!isPlainObject(parsed)) return 'biz_content 不是JSON对象';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked field by field below
  const biz = parsed as Record<string, any>;
  if (biz.personal_product_code !== PERSONAL_PRODUCT) return `personal_product_code 须为 ${PERSONAL_PRODUCT}`;
  if (biz.product_code !== undefined && !PRODUCTS.includes(biz.product_code)) return 'product_code 不支持';
  const ext = biz.external_agreement_no;
  if (ext !== undefined && (typeof ext !== 'string' || !/^[A-Za-z0-9]{1,32}$/.test(ext))) return 'external_agreement_no 最长32位字母或数字';
  if (typeof biz.sign_scene !== 'string' || biz.sign_scene === '') return 'sign_scene 必填';
  if (ext !== undefined && biz.sign_scene === 'DEFAULT|DEFAULT') return '指定 external_agreement_no 时 sign_scene 不能为 DEFAULT|DEFAULT';
  const channel = biz.access_params?.channel;
  if (!CHANNELS.includes(channel)) return `access_params.channel 须为 ${CHANNELS.join('/')}`;
  if (!isPlainObject(biz.period_rule_params)) return 'period_rule_params 必填';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked field by field below
  const rule = biz.period_rule_params as Record<string, any>;
  const periodType = rule.period_type;
  const period = Number(rule.period);
  if (periodType !== 'DAY' && periodType !== 'MONTH') return 'period_rule_params.period_type 须为 DAY 或 MONTH';
  if (!Number.isInteger(period) || period < 1 || (periodType === 'DAY' && period < 7))
    return 'period_rule_params.period 取值错误（DAY 时不小于7）';
  const execute = typeof rule.execute_time === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(rule.execute_time) : null;
  if (!execute) return 'period_rule_params.execute_time 格式为 yyyy-MM-dd';
  if (periodType === 'MONTH' && Number(execute[3]) > 28) return 'period_type 为 MONTH 时 execute_time 的日期不能晚于28日';
  const singleFen =
    typeof rule.single_amount === 'string' || typeof rule.single_amount === 'number' ? yuanToFen(String(rule.single_amount)) : null;
  if (!singleFen) return 'period_rule_params.single_amount 必填（元）';
  const existing = ext ? ctx.store.findAgreementByExternal(ext) : undefined;
  if (existing && existing.status !== 'TEMP')
    return existing.status === 'NORMAL' ? '该外部协议号已签约' : '该外部协议号已解约，请使用新的协议号';
  if (existing) return existing;
  const agreement: AlipayAgreement = {
    agreementNo: `2026${randomDigits(16)}`,
    externalAgreementNo: ext ?? '',
    personalProductCode: PERSONAL_PRODUCT,
    productCode: biz.product_code ?? 'GENERAL_WITHHOLDING',
    signScene: biz.sign_scene,
    channel,
    periodType,
    period,
    executeTime: rule.execute_time,
    singleFen,
    notifyUrl: params.notify_url,
    status: 'TEMP',
    alipayUserId: `2088${randomDigits(12)}`,
    alipayLogonId: 'mem***@sandbox.example',
    openedAt: now,
    pageUrl,
    deductions: [],
    notifications: [],
  };
  ctx.store.agreements.set(agreement.agreementNo, agreement);
  ctx.log(`[alipay] agreement page opened: ${agreement.agreementNo} (${agreement.externalAgreementNo})`);
  return agreement;
}

/** The agreement notification's fields (docs/contracts.md#unsigning-and-notifications). */
function agreementFields(ctx: SandboxContext, a: AlipayAgreement, type: 'dut_user_sign' | 'dut_user_unsign'): Record<string, string> {
  const fields: Record<string, string> = {
    notify_type: type,
    notify_id: randomHex(18),
    notify_time: beijingDateTime(new Date()),
    app_id: ctx.keys.alipay.appId,
    auth_app_id: ctx.keys.alipay.appId,
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    agreement_no: a.agreementNo,
    external_agreement_no: a.externalAgreementNo,
    personal_product_code: a.personalProductCode,
    sign_scene: a.signScene,
    alipay_user_id: a.alipayUserId,
    alipay_logon_id: a.alipayLogonId,
    status: type === 'dut_user_sign' ? 'NORMAL' : 'UNSIGN',
    sign_time: beijingDateTime(a.signTime ?? new Date()),
    valid_time: beijingDateTime(a.validTime ?? new Date()),
    invalid_time: beijingDateTime(a.invalidTime ?? new Date()),
  };
  if (type === 'dut_user_unsign') fields.unsign_time = beijingDateTime(a.unsignTime ?? new Date());
  return fields;
}

export function prepareAgreementNotification(
  ctx: SandboxContext,
  a: AlipayAgreement,
  type: 'dut_user_sign' | 'dut_user_unsign',
  url: string,
  tamper?: AlipayTamper,
  stranger?: import('node:crypto').KeyObject,
): PreparedNotification {
  const fields = agreementFields(ctx, a, type);
  const signer = tamper === 'wrong-key' ? stranger : ctx.keys.alipay.alipaySigner;
  if (!signer) throw new Error('wrong-key tamper needs a stranger key');
  let sign = signBase64(signer, notificationSignedContent(fields));
  if (tamper === 'signature') sign = corruptSignature(sign);
  const body = new URLSearchParams({ ...fields, sign }).toString();
  const out = {
    url,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', 'User-Agent': 'Mozilla/4.0 (sandbox)' },
    body,
  };
  return { notificationId: fields.notify_id, url, build: () => out };
}

export async function sendAlipayNotification(
  ctx: SandboxContext,
  prepared: PreparedNotification,
  records: AlipayAgreement['notifications'],
  copies = 1,
  concurrent = false,
) {
  const record = newDeliveryRecord(prepared);
  records.push(record);
  await ctx.notifier.deliver({
    record,
    build: (n) => prepared.build(n),
    accepts: alipayAccepts,
    retryIntervalsMs: ALIPAY_RETRY_INTERVALS_MS,
    copies,
    concurrent,
  });
  return record;
}

/** The member confirms on the agreement page: NORMAL from now on. */
export function signAgreement(a: AlipayAgreement, now: Date): void {
  a.status = 'NORMAL';
  a.signTime = now;
  a.validTime = now;
  a.invalidTime = new Date(now.getTime() + VALIDITY_MS);
}

/** Ends an agreement (the merchant's unsign, or the member in the Alipay app) and notifies `url`. */
export function unsignAgreement(ctx: SandboxContext, a: AlipayAgreement, url: string | undefined): Promise<unknown> | null {
  if (a.status !== 'NORMAL') return null;
  a.status = 'UNSIGN';
  a.unsignTime = new Date();
  ctx.log(`[alipay] agreement ${a.agreementNo} unsigned`);
  if (!url) return null;
  return sendAlipayNotification(ctx, prepareAgreementNotification(ctx, a, 'dut_user_unsign', url), a.notifications);
}

function findAgreement(ctx: SandboxContext, biz: Record<string, unknown>): AlipayAgreement | undefined {
  if (typeof biz.agreement_no === 'string' && biz.agreement_no) return ctx.store.agreements.get(biz.agreement_no);
  if (typeof biz.external_agreement_no === 'string' && biz.external_agreement_no)
    return ctx.store.findAgreementByExternal(biz.external_agreement_no);
  return undefined;
}

const notExist = () => failure('40004', 'USER_AGREEMENT_NOT_EXIST', '用户协议不存在');

export function queryAgreement(ctx: SandboxContext, biz: Record<string, unknown>): AlipayNode {
  const a = findAgreement(ctx, biz);
  if (!a || a.status === 'TEMP') return notExist();
  return success({
    agreement_no: a.agreementNo,
    external_agreement_no: a.externalAgreementNo,
    personal_product_code: a.personalProductCode,
    sign_scene: a.signScene,
    status: a.status === 'NORMAL' ? 'NORMAL' : 'STOP',
    principal_id: a.alipayUserId,
    alipay_logon_id: a.alipayLogonId,
    sign_time: beijingDateTime(a.signTime ?? a.openedAt),
    valid_time: beijingDateTime(a.validTime ?? a.openedAt),
    invalid_time: beijingDateTime(a.unsignTime ?? a.invalidTime ?? a.openedAt),
    single_quota: fenToYuan(a.singleFen),
  });
}

/** `alipay.user.agreement.unsign`: an agreement already unsigned answers success again (a sandbox choice). */
export function unsignByMerchant(ctx: SandboxContext, params: Record<string, string>, biz: Record<string, unknown>): AlipayNode {
  const a = findAgreement(ctx, biz);
  if (!a || a.status === 'TEMP') return notExist();
  setImmediate(() => void unsignAgreement(ctx, a, params.notify_url ?? a.notifyUrl));
  return success({});
}

/** `alipay.trade.pay` with `agreement_params` (docs/contracts.md#deducting): paid at once, or refused. */
export function deduct(
  ctx: SandboxContext,
  params: Record<string, string>,
  biz: Record<string, unknown>,
  now: Date,
  fault: FaultMode | undefined,
): AlipayNode {
  const input = validate(biz, now, PRODUCTS);
  if (isNode(input)) return input;
  const agreementNo = isPlainObject(biz.agreement_params) ? biz.agreement_params.agreement_no : undefined;
  if (typeof agreementNo !== 'string' || agreementNo === '')
    return failure('40004', 'ACQ.INVALID_PARAMETER', 'agreement_params.agreement_no 必填');
  const existing = ctx.store.alipay.get(input.outTradeNo);
  if (existing?.trade?.status === 'TRADE_SUCCESS') return failure('40004', 'ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
  if (existing) return failure('40004', 'ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
  const a = ctx.store.agreements.get(agreementNo);
  if (!a || a.status === 'TEMP') return failure('40004', 'ACQ.AGREEMENT_NOT_EXIST', '协议不存在');
  if (a.status !== 'NORMAL') return failure('40004', 'ACQ.AGREEMENT_STATUS_NOT_NORMAL', '协议状态非正常');
  if (input.totalFen > a.singleFen) return failure('40004', 'ACQ.CYCLE_PAY_SINGLE_FEE_EXCEED', '周期扣款的单笔金额超过约定值');
  if (fault === 'cycle-limit') return failure('40004', 'ACQ.CYCLE_PAY_TOTAL_TIMES_EXCEED', '周期扣款的总次数超过约定值');
  if (fault === 'declined') return failure('40004', 'ACQ.BUYER_BALANCE_NOT_ENOUGH', '买家余额不足');
  const ymd = beijingDateTime(now).slice(0, 10).replace(/-/g, '');
  const order: AlipayOrder = {
    outTradeNo: input.outTradeNo,
    appId: params.app_id,
    totalFen: input.totalFen,
    subject: input.subject,
    body: input.body,
    notifyUrl: params.notify_url,
    expiry: { kind: 'relative', ms: 0, text: 'paid at once' },
    precreatedAt: now,
    qrCode: `agreement:${agreementNo}:${input.outTradeNo}`,
    method: 'alipay.trade.pay',
    trade: {
      tradeNo: `${ymd}22001${randomDigits(15)}`,
      status: 'TRADE_SUCCESS',
      gmtCreate: now,
      expiresAt: now,
      buyerId: a.alipayUserId,
      buyerLogonId: a.alipayLogonId,
      gmtPayment: now,
    },
    notifications: [],
  };
  ctx.store.alipay.set(order.outTradeNo, order);
  a.deductions.push(order.outTradeNo);
  if (order.notifyUrl && fault !== 'no-callback') {
    setImmediate(() => void sendAlipayNotification(ctx, prepareAlipayNotification(ctx.keys.alipay, order, {}), order.notifications));
  }
  const total = fenToYuan(order.totalFen);
  return success({
    trade_no: order.trade!.tradeNo,
    out_trade_no: order.outTradeNo,
    buyer_logon_id: a.alipayLogonId,
    buyer_user_id: a.alipayUserId,
    total_amount: total,
    receipt_amount: total,
    buyer_pay_amount: total,
    gmt_payment: beijingDateTime(now),
  });
}
