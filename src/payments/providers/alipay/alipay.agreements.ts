import { Logger } from '@nestjs/common';
import { AlipayRequestError, AlipaySdk } from 'alipay-sdk';
import { ProviderTimeoutError, ProviderUnavailableError } from '../../../common/errors/domain-error';
import { yuanToFen } from '../../../common/money';
import type {
  AgreementEvent,
  AgreementProvider,
  AgreementSignRequest,
  AgreementSigning,
  ContractRef,
  ContractState,
  DeductionRequest,
  DeductionResult,
} from '../../agreements';
import type { Acknowledgement, NotificationResult, RawNotification } from '../../payment-provider';
import { NotificationRejected } from '../../payment-provider';
import type { AlipayConfig } from '../../../config/providers/alipay.settings';
import { beijingToDate, dateToBeijing, fenToYuan } from './alipay.mapper';
import { verifiedAlipayFields } from './alipay.notification';
import type { AlipayAnswer } from './alipay.types';

const PERSONAL_PRODUCT = 'CYCLE_PAY_AUTH_P';
const PRODUCT = 'GENERAL_WITHHOLDING';
/** Answers after which the deduction may have gone through: query the same number (docs/contracts.md#deducting). */
const UNKNOWN_SUB_CODES = new Set(['ACQ.SYSTEM_ERROR', 'ACQ.TRADE_HAS_SUCCESS']);
/** Refusals that mean the agreement cannot be used any more. */
const AGREEMENT_ENDED = new Set([
  'ACQ.AGREEMENT_NOT_EXIST',
  'ACQ.AGREEMENT_INVALID',
  'ACQ.AGREEMENT_STATUS_NOT_NORMAL',
  'ACQ.AGREEMENT_ERROR',
]);
const AGREEMENT_NOTIFY_TYPES = new Set(['dut_user_sign', 'dut_user_unsign']);

/**
 * Alipay 商家扣款 through alipay-sdk: the agreement page (`pageExecute`), deductions by `alipay.trade.pay` with
 * `agreement_params`, query and unsign (`exec` with `validateSign: true`: without it a forged answer is
 * accepted, docs/alipay.md#sdk), and the agreement notifications (`checkNotifySignV2`).
 */
export class AlipayAgreements implements AgreementProvider {
  readonly provider = 'alipay' as const;
  readonly preDeductionNotice = 'none' as const;
  readonly signing = 'sign_only' as const;
  /** QRCODE (the page URL as a QR code) and ALIPAYAPP (the phone opens the page in the Alipay app). */
  readonly signingChannels = ['qr', 'wap'] as const;
  private readonly logger = new Logger('AlipayAgreements');
  private readonly sdk: AlipaySdk;

  constructor(
    private readonly config: AlipayConfig & { agreement: { signScene: string } },
    timeoutMs: number,
  ) {
    this.sdk = new AlipaySdk({
      appId: config.appId,
      privateKey: config.privateKeyPem,
      alipayPublicKey: config.alipayPublicKeyPem,
      gateway: config.gateway,
      keyType: 'PKCS8', // the configuration normalises every private key to PKCS#8
      signType: 'RSA2',
      timeout: timeoutMs,
      camelcase: false,
    });
  }

  /** Every plan: the agreement carries its own period and amount. */
  supportsPlan(): boolean {
    return true;
  }

  async sign(req: AgreementSignRequest): Promise<AgreementSigning> {
    if (!/^[A-Za-z0-9]{1,32}$/.test(req.contractNo)) throw new RangeError('an Alipay external_agreement_no is 1–32 letters and digits');
    // Plans last a number of days, so the period is counted in days (DAY needs at least 7, docs/contracts.md#signing).
    const period = Math.max(7, req.periodDays);
    const url = this.sdk.pageExecute('alipay.user.agreement.page.sign', 'GET', {
      timestamp: dateToBeijing(new Date()),
      ...(this.config.notifyUrl ? { notifyUrl: this.config.notifyUrl } : {}),
      bizContent: {
        personal_product_code: PERSONAL_PRODUCT,
        product_code: PRODUCT,
        sign_scene: this.config.agreement.signScene,
        external_agreement_no: req.contractNo,
        access_params: { channel: (req.channel ?? 'qr') === 'qr' ? 'QRCODE' : 'ALIPAYAPP' },
        period_rule_params: {
          period_type: 'DAY',
          period,
          execute_time: req.firstDeductionDate,
          // The most one deduction may take: the renewal's amount (an upgrade's first deduction is less).
          single_amount: fenToYuan(Math.max(req.amountFen, req.firstAmountFen ?? 0)),
        },
      },
    });
    return { kind: 'sign_only', url };
  }

  async deduct(req: DeductionRequest): Promise<DeductionResult> {
    let node: AlipayAnswer;
    try {
      node = await this.exec('alipay.trade.pay', {
        out_trade_no: req.paymentNo,
        total_amount: fenToYuan(req.amountFen),
        subject: req.description,
        product_code: PRODUCT,
        agreement_params: { agreement_no: req.contract.contractId },
      });
    } catch (e) {
      return { outcome: 'unknown', reason: e instanceof ProviderTimeoutError ? 'TIMEOUT' : 'UNAVAILABLE' };
    }
    if (node.code === '10000') return this.paid(node) ?? { outcome: 'unknown', reason: 'MALFORMED_ANSWER' };
    const subCode = node.sub_code ?? node.code ?? 'UNKNOWN';
    // 10003 (waiting), 20000 (service unavailable), a system error, or "already paid": the truth is in a query.
    if (node.code !== '40004' || UNKNOWN_SUB_CODES.has(subCode)) return { outcome: 'unknown', reason: subCode };
    return { outcome: 'failed', reason: subCode, message: node.sub_msg ?? '', contractEnded: AGREEMENT_ENDED.has(subCode), payload: node };
  }

  async queryDeduction(paymentNo: string): Promise<DeductionResult> {
    const node = await this.exec('alipay.trade.query', { out_trade_no: paymentNo }).catch((e: Error) => e);
    if (node instanceof Error) return { outcome: 'unknown', reason: node instanceof ProviderTimeoutError ? 'TIMEOUT' : 'UNAVAILABLE' };
    if (node.code !== '10000') {
      if (node.sub_code === 'ACQ.TRADE_NOT_EXIST') return { outcome: 'not_found' };
      return { outcome: 'unknown', reason: node.sub_code ?? node.code ?? 'UNKNOWN' };
    }
    const status = String(node.trade_status ?? '');
    if (status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED')
      return this.paid(node) ?? { outcome: 'unknown', reason: 'MALFORMED_ANSWER' };
    if (status === 'WAIT_BUYER_PAY') return { outcome: 'pending', payload: node };
    return { outcome: 'failed', reason: status || 'UNKNOWN', message: '', contractEnded: false, payload: node };
  }

  async queryContract(contract: Partial<ContractRef> & Pick<ContractRef, 'contractNo'>): Promise<ContractState> {
    const biz = contract.contractId
      ? { agreement_no: contract.contractId }
      : {
          external_agreement_no: contract.contractNo,
          personal_product_code: PERSONAL_PRODUCT,
          sign_scene: this.config.agreement.signScene,
        };
    const node = await this.exec('alipay.user.agreement.query', biz);
    if (node.code !== '10000') {
      if (node.sub_code === 'USER_AGREEMENT_NOT_EXIST') return { state: 'not_found' };
      throw new ProviderUnavailableError(`Alipay failed the agreement query (${[node.code, node.sub_code].filter(Boolean).join(' ')})`);
    }
    const agreementNo = typeof node.agreement_no === 'string' ? node.agreement_no : '';
    if (!agreementNo) throw new ProviderUnavailableError('Alipay answered the agreement query without an agreement_no');
    const external = typeof node.external_agreement_no === 'string' && node.external_agreement_no ? node.external_agreement_no : '';
    const found: ContractRef = { contractId: agreementNo, contractNo: external || contract.contractNo };
    const signedAt = typeof node.sign_time === 'string' ? beijingToDate(node.sign_time) : null;
    if (node.status === 'NORMAL') return { state: 'active', contract: found, signedAt: signedAt ?? new Date() };
    return { state: 'ended', contract: found, signedAt };
  }

  async terminate(contract: ContractRef): Promise<'terminated' | 'not_found'> {
    const node = await this.exec('alipay.user.agreement.unsign', { agreement_no: contract.contractId });
    if (node.code === '10000') return 'terminated';
    if (node.sub_code === 'USER_AGREEMENT_NOT_EXIST') return 'not_found';
    throw new ProviderUnavailableError(`Alipay failed the unsign request (${[node.code, node.sub_code].filter(Boolean).join(' ')})`);
  }

  /** Alipay has no merchant notice: the reminder is the app's (docs/contracts.md#the-rules-for-auto-renewal-in-china). */
  async sendPreDeductionNotice(): Promise<'not_needed'> {
    return 'not_needed';
  }

  /**
   * Agreement notifications arrive at the app's gateway address, the payment callback route, told apart
   * by notify_type (docs/contracts.md#unsigning-and-notifications). Deduction results arrive there too, as
   * ordinary trade_status_sync: the payment path handles them.
   */
  claims(raw: RawNotification): boolean {
    const type = new URLSearchParams(raw.rawBody.toString('utf8')).get('notify_type');
    return type !== null && AGREEMENT_NOTIFY_TYPES.has(type);
  }

  async verifyAndClassify(raw: RawNotification): Promise<AgreementEvent> {
    const f = verifiedAlipayFields(this.sdk, raw.rawBody.toString('utf8'));
    if (f.app_id !== this.config.appId) throw new NotificationRejected('WRONG_APP_ID', 'the notification is for another app');
    if (!f.agreement_no || !f.external_agreement_no)
      throw new NotificationRejected('MALFORMED_BODY', 'agreement_no or external_agreement_no is missing');
    const contract = { contractId: f.agreement_no, contractNo: f.external_agreement_no };
    if (f.notify_type === 'dut_user_sign' && f.status === 'NORMAL') {
      return { kind: 'signed', provider: 'alipay', contract, signedAt: beijingToDate(f.sign_time ?? '') ?? new Date(), payload: f };
    }
    if (f.notify_type === 'dut_user_unsign') {
      // Alipay does not say who ended it; an unsign we asked for is recorded as ours before the notification arrives.
      return {
        kind: 'ended',
        provider: 'alipay',
        contract,
        by: 'member',
        endedAt: beijingToDate(f.unsign_time ?? '') ?? new Date(),
        payload: f,
      };
    }
    throw new NotificationRejected(
      'UNEXPECTED_EVENT',
      `notify_type ${f.notify_type ?? '(none)'} status ${f.status ?? '(none)'} is not an agreement change`,
    );
  }

  /** Alipay stops resending on the exact body `success` (docs/alipay.md#acknowledgement). */
  acknowledge(result: NotificationResult): Acknowledgement {
    if (result === 'accepted') return { status: 200, contentType: 'text/plain', body: 'success' };
    return { status: result === 'rejected' ? 400 : 500, contentType: 'text/plain', body: 'failure' };
  }

  private paid(node: AlipayAnswer): DeductionResult | null {
    const amountFen = typeof node.total_amount === 'string' ? yuanToFen(node.total_amount) : null;
    if (amountFen === null || typeof node.trade_no !== 'string') return null;
    const at = String(node.gmt_payment ?? node.send_pay_date ?? '');
    return { outcome: 'paid', providerTradeNo: node.trade_no, amountFen, paidAt: beijingToDate(at) ?? new Date(), payload: node };
  }

  private async exec(method: string, bizContent: Record<string, unknown>): Promise<AlipayAnswer> {
    const params: Record<string, unknown> = { bizContent, timestamp: dateToBeijing(new Date()) };
    if (this.config.notifyUrl) params.notifyUrl = this.config.notifyUrl; // the SDK signs empty values too: never pass ''
    try {
      return (await this.sdk.exec(method, params, { validateSign: true })) as unknown as AlipayAnswer;
    } catch (e) {
      const err = e as AlipayRequestError & { cause?: { name?: string; code?: string } };
      const timedOut = /timeout/i.test(`${err?.cause?.name ?? ''} ${err?.cause?.code ?? ''} ${err?.message ?? ''}`);
      this.logger.warn(`${method} failed: ${timedOut ? 'timeout' : (err?.name ?? 'error')}`);
      throw timedOut
        ? new ProviderTimeoutError(`Alipay did not answer ${method} in time`)
        : new ProviderUnavailableError(`Alipay failed ${method}`);
    }
  }
}
