import { Logger } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import { Hash, Transformer, Wechatpay } from 'wechatpay-axios-plugin';
import { ProviderTimeoutError, ProviderUnavailableError } from '../../../common/errors/domain-error';
import type {
  AgreementEvent,
  AgreementProvider,
  AgreementRoute,
  AgreementSignRequest,
  AgreementSigning,
  ContractRef,
  ContractState,
  DeductionRequest,
  DeductionResult,
} from '../../agreements';
import { AgreementRefused } from '../../agreements';
import type { Acknowledgement, NotificationResult, PaymentEvent, RawNotification } from '../../payment-provider';
import { NotificationRejected, stateEvent } from '../../payment-provider';
import type { WechatPapayConfig, WechatPayConfig } from '../../../config/providers/wechat-pay.settings';

// The SDK's chain answers any path segment with a further request builder, so no static type names them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's paths are dynamic
type Api = AxiosInstance & Record<string, any>;
type Fields = Record<string, string>;

/** WeChat limits `body` to 128 bytes; cut on a character boundary (docs/contracts.md#calls). */
const BODY_MAX_BYTES = 128;
/** The v2 answer that stops resends (docs/contracts.md#callbacks). */
const ACK_OK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
/** Refusals of an apply that end the contract's use: do not try it again (docs/contracts.md#calls). */
const CONTRACT_ENDED = new Set(['CONTRACT_NOT_EXIST', 'CONTRACTERROR', 'USER_NOT_EXIST', 'USER_ACCOUNT_ABNORMAL']);
/** Apply answers after which the same number may still be charged: query it, never apply a new one blindly. */
const UNKNOWN_APPLY = new Set(['SYSTEMERROR', 'ORDER_ACCEPTED', 'ORDERPAID', 'FREQUENCY_LIMITED']);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT']);
/** contractorder's trade_type by our channel: the QR code (code_url) or the phone browser (mweb_url). */
const TRADE_TYPE_BY_CHANNEL: Partial<Record<string, 'NATIVE' | 'MWEB'>> = { qr: 'NATIVE', h5: 'MWEB' };

/** Bytes of UTF-8 text cut to `max` without splitting a character; 4-byte characters (emoji) removed (v2 refuses them). */
function v2Text(text: string, max: number): string {
  let out = '';
  for (const ch of text) {
    if ((ch.codePointAt(0) ?? 0) > 0xffff) continue;
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

/** `yyyyMMddHHmmss` or `yyyy-MM-dd HH:mm:ss`, Beijing time (v2 layouts), as an instant. */
function v2Instant(text: string | undefined): Date | null {
  const m = /^(\d{4})-?(\d{2})-?(\d{2}) ?(\d{2}):?(\d{2}):?(\d{2})$/.exec(text ?? '');
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - 8 * 3600_000;
  return Number.isNaN(ms) ? null : new Date(ms);
}

interface V2Failure {
  code?: string;
  message?: string;
  response?: { status?: number; data?: unknown };
}

/**
 * WeChat Pay 委托代扣 (periodic deduction) through wechatpay-axios-plugin's API v2 client: XML, signed and
 * verified with the API v2 key (`Transformer`, `Hash.sign`), HMAC-SHA256 on every call we make. The one v3
 * call, the merchant's pre-deduction notice, goes through the same SDK's v3 client. The SDK instance is a
 * field, never a Nest provider (docs/wechat-pay.md#sdk).
 */
export class WechatPayAgreements implements AgreementProvider {
  readonly provider = 'wechat' as const;
  readonly preDeductionNotice;
  readonly signing = 'pay_and_sign' as const;
  /** NATIVE (a code_url for the QR code) and MWEB (an mweb_url the phone browser opens). */
  readonly signingChannels = ['qr', 'h5'] as const;
  private readonly logger = new Logger('WechatPayContracts');
  private readonly client: { v2: Api; v3: Api };
  private readonly papay: WechatPapayConfig;
  private readonly planByTemplate: Map<string, string>;
  /** The pay-and-sign requests of this process, one at a time: see nextRequestSerial. */
  private signingTurn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: WechatPayConfig & { papay: WechatPapayConfig },
    timeoutMs: number,
  ) {
    this.papay = config.papay;
    this.preDeductionNotice = this.papay.notice === 'merchant' ? ('merchant' as const) : ('provider' as const);
    this.planByTemplate = new Map(Object.entries(this.papay.planIds).map(([plan, id]) => [id, plan]));
    const publicKeyId = Object.keys(config.verifiers).find((id) => id.startsWith('PUB_KEY_ID_'));
    this.client = new Wechatpay({
      mchid: config.mchId,
      serial: config.certSerial,
      privateKey: config.privateKeyPem,
      certs: { ...config.verifiers },
      secret: this.papay.apiV2Key,
      baseURL: config.baseUrl,
      timeout: timeoutMs,
      headers: publicKeyId ? { 'Wechatpay-Serial': publicKeyId } : {},
    }) as unknown as { v2: Api; v3: Api };
  }

  supportsPlan(planCode: string): boolean {
    return Object.hasOwn(this.papay.planIds, planCode);
  }

  async sign(req: AgreementSignRequest): Promise<AgreementSigning> {
    const planId = this.papay.planIds[req.planCode];
    if (!planId) throw new AgreementRefused('NO_TEMPLATE', `no WeChat Pay contract template for the plan ${req.planCode}`);
    const channel = req.channel ?? 'qr';
    const tradeType = TRADE_TYPE_BY_CHANNEL[channel];
    if (!tradeType) throw new AgreementRefused('CHANNEL', `WeChat Pay does not pay and sign on the ${channel} channel here`);
    const answer = await this.inSigningTurn(() =>
      this.v2('contractorder', 'pay/contractorder', {
        appid: this.config.appId,
        mch_id: this.config.mchId,
        contract_appid: this.config.appId,
        contract_mchid: this.config.mchId,
        out_trade_no: req.paymentNo,
        body: v2Text(req.description, BODY_MAX_BYTES),
        total_fee: String(req.firstAmountFen ?? req.amountFen),
        spbill_create_ip: req.clientIp,
        notify_url: this.papay.papayNotifyUrl,
        trade_type: tradeType,
        ...(tradeType === 'NATIVE' ? { product_id: req.planCode } : {}),
        plan_id: planId,
        contract_code: req.contractNo,
        request_serial: nextRequestSerial(),
        contract_display_account: v2Text(req.displayAccount, 32),
        contract_notify_url: this.papay.contractNotifyUrl,
      }),
    );
    if (!answer.ok) throw answer.transient ? answer.error : new AgreementRefused(answer.code, answer.message);
    const f = answer.fields;
    // The order exists but no contract will be signed: paying it would buy one period without renewal.
    if (f.contract_result_code === 'FAIL')
      throw new AgreementRefused(f.contract_err_code ?? 'CONTRACT_FAIL', f.contract_err_code_des ?? '');
    const url = tradeType === 'NATIVE' ? f.code_url : f.mweb_url;
    if (!url) throw new ProviderUnavailableError(`WeChat Pay answered the ${tradeType} pay-and-sign order without its URL`);
    return { kind: 'pay_and_sign', url };
  }

  /**
   * Runs one pay-and-sign request after this process's previous one has been answered, its serial taken
   * inside the turn: requests sent together reach the provider in any order (each on a connection of its
   * own), and one whose serial is below one already received is refused. A one-slot chain of promises:
   * a queue library would be a dependency for these four lines. Each turn ends within the provider timeout.
   */
  private inSigningTurn<T>(request: () => Promise<T>): Promise<T> {
    const turn = this.signingTurn.then(request, request);
    this.signingTurn = turn.catch(() => undefined);
    return turn;
  }

  async deduct(req: DeductionRequest): Promise<DeductionResult> {
    const answer = await this.v2('deduct', 'pay/pappayapply', {
      appid: this.config.appId,
      mch_id: this.config.mchId,
      body: v2Text(req.description, BODY_MAX_BYTES),
      out_trade_no: req.paymentNo,
      total_fee: String(req.amountFen),
      spbill_create_ip: req.clientIp,
      notify_url: this.papay.papayNotifyUrl,
      trade_type: 'PAP',
      contract_id: req.contract.contractId,
    });
    if (answer.ok) return { outcome: 'pending', payload: answer.fields };
    if (answer.transient || UNKNOWN_APPLY.has(answer.code)) return { outcome: 'unknown', reason: answer.code };
    return {
      outcome: 'failed',
      reason: answer.code,
      message: answer.message,
      contractEnded: CONTRACT_ENDED.has(answer.code),
      payload: answer.fields ?? {},
    };
  }

  async queryDeduction(paymentNo: string): Promise<DeductionResult> {
    const answer = await this.v2('deduct-query', 'pay/paporderquery', {
      appid: this.config.appId,
      mch_id: this.config.mchId,
      out_trade_no: paymentNo,
    });
    if (!answer.ok) {
      if (answer.code === 'ORDERNOTEXIST') return { outcome: 'not_found' };
      return { outcome: 'unknown', reason: answer.code };
    }
    return this.deductionResult(answer.fields);
  }

  async queryContract(contract: Partial<ContractRef> & Pick<ContractRef, 'contractNo'>, planCode?: string): Promise<ContractState> {
    const by: Fields = contract.contractId
      ? { contract_id: contract.contractId }
      : { plan_id: this.papay.planIds[planCode ?? ''] ?? '', contract_code: contract.contractNo };
    const answer = await this.v2('contract-query', 'papay/querycontract', {
      appid: this.config.appId,
      mch_id: this.config.mchId,
      ...by,
      version: '1.0',
    });
    if (!answer.ok) {
      if (answer.code === 'CONTRACT_NOT_EXIST') return { state: 'not_found' };
      throw answer.error;
    }
    const f = answer.fields;
    if (!f.contract_id) throw new ProviderUnavailableError('WeChat Pay answered the contract query without a contract_id');
    const found: ContractRef = { contractId: f.contract_id, contractNo: f.contract_code || contract.contractNo };
    const signedAt = v2Instant(f.contract_signed_time);
    if (f.contract_state === '0') return { state: 'active', contract: found, signedAt: signedAt ?? new Date() };
    return { state: 'ended', contract: found, signedAt };
  }

  async terminate(contract: ContractRef, reason: string): Promise<'terminated' | 'not_found'> {
    const answer = await this.v2('terminate', 'papay/deletecontract', {
      appid: this.config.appId,
      mch_id: this.config.mchId,
      contract_id: contract.contractId,
      contract_termination_remark: v2Text(reason, 255) || '取消自动续费',
      version: '1.0',
    });
    if (answer.ok) return 'terminated';
    if (answer.code === 'CONTRACT_NOT_EXIST') return 'not_found';
    throw answer.error;
  }

  async sendPreDeductionNotice(contract: ContractRef, amountFen: number, days: number): Promise<'sent' | 'already_sent' | 'not_needed'> {
    if (this.papay.notice !== 'merchant') return 'not_needed';
    const count = Math.min(3, Math.max(1, Math.round(days)));
    try {
      await this.client.v3.papay.contracts.$contract_id$.notify.post(
        {
          mchid: this.config.mchId,
          appid: this.config.appId,
          deduct_duration: { count, unit: 'DAY' },
          estimated_amount: { amount: amountFen, currency: 'CNY' },
        },
        { contract_id: contract.contractId },
      );
      return 'sent';
    } catch (e) {
      const data = (e as V2Failure).response?.data as { code?: string } | undefined;
      // The same notice twice in a cycle: it was sent (docs/contracts.md#calls).
      if (data?.code === 'RESOURCE_ALREADY_EXISTS') return 'already_sent';
      throw this.transportError('notice', e);
    }
  }

  /** WeChat Pay sends contract notifications to URLs of their own (contract-callback, papay-callback), never to the payment callback. */
  claims(): boolean {
    return false;
  }

  async verifyAndClassify(raw: RawNotification, route: AgreementRoute): Promise<AgreementEvent> {
    const f = this.verifiedFields(raw.rawBody);
    if (f.mch_id !== this.config.mchId) throw new NotificationRejected('WRONG_MCHID', 'the callback is for another merchant');
    if (f.appid !== undefined && f.appid !== this.config.appId)
      throw new NotificationRejected('WRONG_APP_ID', 'the callback is for another app');
    if (route === 'contract') return this.contractEvent(f);
    if (f.return_code !== 'SUCCESS') throw new NotificationRejected('UNEXPECTED_EVENT', 'the callback reports a failed call');
    if (!f.out_trade_no) throw new NotificationRejected('MALFORMED_BODY', 'out_trade_no is missing');
    if (f.trade_type === 'PAP' || f.contract_id || f.trade_state) {
      return {
        kind: 'deduction',
        provider: 'wechat',
        paymentNo: f.out_trade_no,
        contractId: f.contract_id ?? null,
        result: this.deductionResult(f),
      };
    }
    return { kind: 'payment', provider: 'wechat', event: this.paymentEvent(f) };
  }

  acknowledge(result: NotificationResult, reason?: string): Acknowledgement {
    if (result === 'accepted') return { status: 200, contentType: 'text/xml', body: ACK_OK };
    const message = (reason ?? (result === 'retry' ? 'try again later' : 'rejected')).replace(/[<>&\]]/g, ' ');
    return {
      status: result === 'retry' ? 500 : 400,
      contentType: 'text/xml',
      body: `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[${message}]]></return_msg></xml>`,
    };
  }

  private contractEvent(f: Fields): AgreementEvent {
    const planCode = this.planByTemplate.get(f.plan_id ?? '');
    if (!planCode) throw new NotificationRejected('UNEXPECTED_EVENT', 'the callback names a template we do not use');
    if (!f.contract_id || !f.contract_code) throw new NotificationRejected('MALFORMED_BODY', 'contract_id or contract_code is missing');
    const contract = { contractId: f.contract_id, contractNo: f.contract_code };
    const at = v2Instant(f.operate_time) ?? new Date();
    if (f.change_type === 'ADD') return { kind: 'signed', provider: 'wechat', contract, planCode, signedAt: at, payload: f };
    if (f.change_type === 'DELETE') {
      // contract_termination_mode: 2 the member, 3 our API, 4 our merchant platform, 5 account closed, 7 customer service.
      const mode = f.contract_termination_mode;
      const by = mode === '2' ? 'member' : mode === '3' || mode === '4' ? 'merchant' : 'provider';
      return { kind: 'ended', provider: 'wechat', contract, by, endedAt: at, payload: f };
    }
    throw new NotificationRejected('UNEXPECTED_EVENT', `change_type ${f.change_type ?? '(none)'} is not a contract change`);
  }

  private deductionResult(f: Fields): DeductionResult {
    const state = f.trade_state ?? (f.result_code === 'SUCCESS' ? 'SUCCESS' : 'PAY_FAIL');
    if (state === 'SUCCESS' || state === 'REFUND') {
      const amountFen = Number(f.total_fee);
      if (!Number.isSafeInteger(amountFen) || amountFen < 1)
        throw new NotificationRejected('MALFORMED_AMOUNT', 'total_fee is not a positive integer');
      return {
        outcome: 'paid',
        providerTradeNo: f.transaction_id ?? '',
        amountFen,
        paidAt: v2Instant(f.time_end) ?? new Date(),
        payload: f,
      };
    }
    if (state === 'ACCEPT' || state === 'USERPAYING' || state === 'NOTPAY') return { outcome: 'pending', payload: f };
    const reason = f.err_code ?? state;
    return {
      outcome: 'failed',
      reason,
      message: f.err_code_des ?? f.trade_state_desc ?? '',
      contractEnded: CONTRACT_ENDED.has(reason),
      payload: f,
    };
  }

  private paymentEvent(f: Fields): PaymentEvent {
    if (f.result_code !== 'SUCCESS') return stateEvent('wechat', f.out_trade_no, 'closed', f.err_code ?? 'FAIL');
    const amountFen = Number(f.total_fee);
    if (!Number.isSafeInteger(amountFen) || amountFen < 1)
      throw new NotificationRejected('MALFORMED_AMOUNT', 'total_fee is not a positive integer');
    return {
      provider: 'wechat',
      paymentNo: f.out_trade_no,
      outcome: 'paid',
      tradeState: 'SUCCESS',
      providerTradeNo: f.transaction_id ?? null,
      amountFen,
      paidAt: v2Instant(f.time_end) ?? new Date(),
      payload: f,
    };
  }

  /**
   * The fields of a v2 callback, once its signature verifies against every field received (unknown
   * ones included) in the callback's own sign_type (docs/contracts.md#the-v2-signature). v2 callbacks
   * carry no sending time, so freshness cannot be checked: a replay is harmless because every event is
   * applied idempotently by out_trade_no or contract_id.
   */
  private verifiedFields(raw: Buffer): Fields {
    let parsed: unknown;
    try {
      parsed = Transformer.toObject(raw.toString('utf8'));
    } catch {
      throw new NotificationRejected('MALFORMED_BODY', 'the body is not v2 XML');
    }
    if (typeof parsed !== 'object' || parsed === null) throw new NotificationRejected('MALFORMED_BODY', 'the body is not v2 XML');
    const fields: Fields = {};
    for (const [k, v] of Object.entries(parsed)) {
      // A repeated or nested element parses to an array or object: which copy was signed is unknown.
      if (typeof v !== 'string') throw new NotificationRejected('MALFORMED_BODY', `the field ${k} is not a single text value`);
      fields[k] = v;
    }
    if (!fields.sign) throw new NotificationRejected('MISSING_SIGNATURE', 'the callback is not signed');
    const type = fields.sign_type ?? (fields.sign.length === 64 ? 'HMAC-SHA256' : 'MD5');
    if (type !== 'MD5' && type !== 'HMAC-SHA256') throw new NotificationRejected('BAD_SIGNATURE', `sign_type ${type} is not accepted`);
    if (!Hash.equals(Hash.sign(type, fields, this.papay.apiV2Key), fields.sign)) {
      throw new NotificationRejected('BAD_SIGNATURE', 'the signature does not verify');
    }
    return fields;
  }

  /**
   * One v2 call. The SDK signs it (HMAC-SHA256) and verifies a SUCCESS answer; it rejects a `result_code`
   * FAIL before checking its signature, so the FAIL's fields are verified here before their err_code is
   * believed. `transient`: no trustworthy answer (timeout, transport, 5xx, an answer that does not verify).
   */
  private async v2(
    operation: string,
    path: string,
    data: Fields,
  ): Promise<
    { ok: true; fields: Fields } | { ok: false; transient: boolean; code: string; message: string; fields?: Fields; error: Error }
  > {
    const [first, ...rest] = path.split('/');
    try {
      const res = await rest.reduce((chain, part) => chain[part], this.client.v2[first]).post({ ...data, sign_type: 'HMAC-SHA256' });
      return { ok: true, fields: res.data as Fields };
    } catch (e) {
      const err = e as V2Failure;
      const body = err.response?.data as Fields | undefined;
      if (err.code === 'EV2_RES_STATUS_CODE_NOT_SUCESS' && body?.return_code === 'SUCCESS' && body.err_code) {
        const type = body.sign_type ?? (body.sign?.length === 64 ? 'HMAC-SHA256' : 'MD5');
        if (body.sign && (type === 'MD5' || type === 'HMAC-SHA256') && Hash.equals(Hash.sign(type, body, this.papay.apiV2Key), body.sign)) {
          this.logger.warn(`${operation} refused: ${body.err_code}`);
          const error = new ProviderUnavailableError(`WeChat Pay refused the ${operation} request (${body.err_code})`);
          return { ok: false, transient: false, code: body.err_code, message: body.err_code_des ?? '', fields: body, error };
        }
      }
      const error = this.transportError(operation, e);
      return {
        ok: false,
        transient: true,
        code: error instanceof ProviderTimeoutError ? 'TIMEOUT' : 'UNAVAILABLE',
        message: error.message,
        error,
      };
    }
  }

  private transportError(operation: string, e: unknown): Error {
    const err = e as V2Failure;
    const timedOut = TIMEOUT_CODES.has(String(err?.code)) || /timeout/i.test(String(err?.message));
    const body = err?.response?.data as Fields | undefined;
    // The code only (return_msg or err_code), never the body: it could echo what we sent.
    const detail = [
      err?.response?.status && `HTTP ${err.response.status}`,
      typeof err?.code === 'string' ? err.code : undefined,
      body?.return_code === 'FAIL' ? 'return_code FAIL' : undefined,
    ]
      .filter(Boolean)
      .join(' ');
    this.logger.warn(`${operation} failed: ${timedOut ? 'timeout' : detail || 'error'}`);
    return timedOut
      ? new ProviderTimeoutError(`WeChat Pay did not answer the ${operation} request in time`)
      : new ProviderUnavailableError(`WeChat Pay failed the ${operation} request${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * request_serial must be above every serial the merchant sent before (docs/contracts.md#the-v2-signature).
 * It is taken as the request goes out (in its turn: WechatPayAgreements.inSigningTurn), in microseconds
 * since the epoch, and never at or below this process's last one. A serial fixed when the order was
 * created went out after a later one whenever checkouts raced, and the provider refused it; between
 * instances, only requests sent within their clocks' difference can still cross (a 502 the member
 * retries). A signing goes out once per attempt (a failure fails the attempt; the next try is a new
 * out_trade_no), so the serial need not be reproducible.
 */
let lastSerial = 0n;
function nextRequestSerial(): string {
  const micros = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  lastSerial = micros > lastSerial ? micros : lastSerial + 1n;
  return String(lastSerial);
}
