import { Controller, HttpCode, Logger, OnModuleInit, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.guard';
import { requestIdOf } from '../common/request-id';
import { MetricsService } from '../metrics/metrics.service';
import {
  IncomingNotification,
  NotificationRejected,
  type PaymentProvider,
  type RawNotification,
  NotificationRejectionReason,
  NotificationResult,
  writeAcknowledgement,
} from './payment-provider';
import { HandledAs, NotificationRouter } from './notification-router';
import { NotificationRefusalsRepository } from './notification-refusals.repository';
import { AgreementRegistry } from './agreement-registry';
import { toIncoming, type AgreementProvider, type AgreementRoute } from './agreements';
import { PaymentsService } from './payments.service';
import { PROVIDER_NAMES } from './provider-name';
import { ProviderRegistry } from './provider-registry';

/**
 * POST /api/v1/payment/:provider/callback, the one URL per provider registered at WeChat Pay and
 * Alipay. The provider verifies and classifies each notification (a payment's, a refund's); the
 * router hands it to the module that owns that kind. The one place that answers in the provider's
 * format rather than ours, because the sender understands nothing else: every path ends in
 * provider.acknowledge().
 */
@ApiTags('provider callbacks')
@Public()
@Controller('api/v1/payment')
export class NotificationsController implements OnModuleInit {
  private readonly logger = new Logger('Notifications');

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly payments: PaymentsService,
    private readonly router: NotificationRouter,
    private readonly metrics: MetricsService,
    private readonly agreements: AgreementRegistry,
    private readonly refusals: NotificationRefusalsRepository,
  ) {}

  onModuleInit(): void {
    this.router.handle('payment', async (event) => (await this.payments.applyEvent(event, 'notification')).result);
  }

  @Post(':provider/callback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Notifications from WeChat Pay (`wechat`) and Alipay (`alipay`): payments, and WeChat Pay refund results',
    description:
      'Register https://<host>/api/v1/payment/wechat/callback and …/alipay/callback at the providers (WeChat Pay refund results may come here too, as their notify_url). Verified over the raw bytes, then classified by the provider (payment or refund). Answers in the provider\'s own format: WeChat Pay 204 (accepted) or 4xx/5xx `{"code":"FAIL","message":…}`; Alipay `success` or `failure`. A 5xx asks the provider to retry.',
  })
  @ApiParam({ name: 'provider', enum: PROVIDER_NAMES })
  @ApiResponse({ status: 200, description: 'Alipay: accepted (body `success`)' })
  @ApiResponse({ status: 204, description: 'WeChat Pay: accepted' })
  @ApiResponse({ status: 400, description: 'rejected (forged, stale, not ours, unknown order or refund, wrong amount): nothing changed' })
  @ApiResponse({
    status: 500,
    description: 'we failed (database down, or a notification that does not decrypt with our API v3 key): the provider retries',
  })
  receive(@Param('provider') name: string, @Req() req: Request & { rawBody?: Buffer }, @Res() res: Response): Promise<void> {
    return this.handle(name, req, res);
  }

  /**
   * The refund notify_url merchants configured before refund results came to the provider's one
   * callback URL (WECHAT_PAY_REFUND_NOTIFY_URL): the same handling, kept so those URLs keep working.
   */
  @Post('wechat/refund-callback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'WeChat Pay refund results, at their former URL (an alias of /api/v1/payment/wechat/callback)',
    description: 'Handled exactly as the WeChat Pay callback: verified, classified, answered 204 or `{"code":"FAIL",…}`.',
  })
  @ApiResponse({ status: 204, description: 'accepted' })
  @ApiResponse({ status: 400, description: 'rejected: nothing changed' })
  @ApiResponse({ status: 500, description: 'we failed (database down): WeChat Pay retries' })
  receiveWechatRefund(@Req() req: Request & { rawBody?: Buffer }, @Res() res: Response): Promise<void> {
    return this.handle('wechat', req, res);
  }

  /**
   * WeChat Pay auto-renewal (docs/contracts.md#callbacks), API v2 XML answered in v2 XML: sign and unsign
   * results at the contract_notify_url, first-period payments and deductions at the papay notify_url.
   */
  @Post('wechat/contract-callback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'WeChat Pay auto-renewal: contract sign and unsign results (API v2 XML)',
    description:
      'Register https://<host>/api/v1/payment/wechat/contract-callback as WECHAT_PAY_CONTRACT_NOTIFY_URL and as the unsign URL of each contract template. Verified with the API v2 key over every field received; answered `<xml><return_code>SUCCESS</return_code>…` or FAIL. 404 when auto-renewal is off for WeChat Pay.',
  })
  @ApiResponse({ status: 200, description: 'accepted (return_code SUCCESS)' })
  @ApiResponse({ status: 400, description: 'rejected (forged, not ours): nothing changed' })
  @ApiResponse({ status: 500, description: 'we failed: WeChat Pay retries' })
  receiveWechatContract(@Req() req: Request & { rawBody?: Buffer }, @Res() res: Response): Promise<void> {
    return this.handle('wechat', req, res, 'contract');
  }

  @Post('wechat/papay-callback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'WeChat Pay auto-renewal: pay-and-sign payments and deduction results (API v2 XML)',
    description:
      'The notify_url of `contractorder` and `pappayapply` (WECHAT_PAY_PAPAY_NOTIFY_URL). Verified with the API v2 key; a first-period payment is settled like any payment. Answered in v2 XML. 404 when auto-renewal is off for WeChat Pay.',
  })
  @ApiResponse({ status: 200, description: 'accepted (return_code SUCCESS)' })
  @ApiResponse({ status: 400, description: 'rejected: nothing changed' })
  @ApiResponse({ status: 500, description: 'we failed: WeChat Pay retries' })
  receiveWechatPapay(@Req() req: Request & { rawBody?: Buffer }, @Res() res: Response): Promise<void> {
    return this.handle('wechat', req, res, 'papay');
  }

  /**
   * Files a refused notification under the order it names, for that order's story in the console:
   * the payment number of the verified event when verification passed (a wrong amount, a refund we
   * do not know), else the one the provider reads from the untrusted body (a bad signature, a stale
   * timestamp), which only ever leads to an attempt of ours or to nothing. Only our own ids and the
   * code are stored. It never changes the answer: a failure to file is logged and the answer stands.
   * `raw` is null on the contract routes, whose bodies only their adapter reads.
   */
  private async fileRefusal(
    provider: PaymentProvider,
    raw: RawNotification | null,
    incoming: IncomingNotification | undefined,
    reason: NotificationRejectionReason,
  ): Promise<void> {
    try {
      const verified = incoming && incoming.kind !== 'agreement' ? incoming.event.paymentNo : null;
      const named = verified ?? (raw && provider.namedPaymentNo ? provider.namedPaymentNo(raw) : null);
      if (named) await this.refusals.record(provider.name, named, reason, new Date());
    } catch (e) {
      this.logger.error(`a refused notification from ${provider.name} could not be filed: ${(e as Error)?.message ?? e}`);
    }
  }

  /**
   * `route`: `callback` is the provider's one payment URL (where Alipay also sends agreement
   * notifications, claimed by its contract adapter); `contract` and `papay` are WeChat Pay's two
   * contract URLs, verified by the contract adapter alone.
   */
  private async handle(
    name: string,
    req: Request & { rawBody?: Buffer },
    res: Response,
    route: 'callback' | 'contract' | 'papay' = 'callback',
  ): Promise<void> {
    const provider = this.registry.find(name);
    const agreement = this.agreements.find(name);
    if (!provider || (route !== 'callback' && !agreement)) {
      res
        .status(404)
        .json({ code: 'FAIL', message: route === 'callback' ? 'unknown payment provider' : 'auto-renewal is off for this provider' });
      return;
    }
    const raw = { headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) };
    const agreementRoute: AgreementRoute = route === 'contract' ? 'contract' : 'payment';
    const byContract: AgreementProvider | undefined = route !== 'callback' || agreement?.claims(raw) ? agreement : undefined;
    let result: NotificationResult | 'unusable';
    let answer: NotificationResult;
    let reason: string | undefined;
    let rejection: NotificationRejectionReason | undefined;
    let incoming: IncomingNotification | undefined;
    let handled: HandledAs | undefined;
    try {
      incoming = byContract ? toIncoming(await byContract.verifyAndClassify(raw, agreementRoute)) : await provider.verifyNotification(raw);
      handled = await this.router.dispatch(incoming);
      result = answer = 'accepted';
    } catch (e) {
      if (e instanceof NotificationRejected) {
        result = e.unusable ? 'unusable' : 'rejected';
        answer = e.retryLater ? 'retry' : 'rejected';
        rejection = e.reason;
        reason = e.message;
      } else {
        // Ours to fix (database down, a bug): answer so that the provider sends it again.
        result = answer = 'retry';
        reason = 'temporarily unable to process';
        this.logger.error(`notification from ${name} failed: ${(e as Error)?.message ?? e}`);
      }
    }
    const fields = [
      `provider=${name}`,
      `outcome=${result}`,
      rejection && `rejection=${rejection}`,
      handled && `result=${handled}`,
      incoming && `kind=${incoming.kind}`,
      incoming?.kind === 'payment' && `payment_no=${incoming.event.paymentNo}`,
      incoming?.kind === 'refund' && `refund_no=${incoming.event.refundNo} refund_status=${incoming.event.providerState}`,
      incoming?.kind === 'agreement' && `contract_event=${incoming.event.kind}`,
      incoming && 'eventId' in incoming.event && incoming.event.eventId && `event_id=${incoming.event.eventId}`,
      reason && `reason="${reason}"`,
      `request_id=${requestIdOf(req)}`,
    ]
      .filter(Boolean)
      .join(' ');
    if (result === 'accepted') this.logger.log(`notification ${fields}`);
    // Signed by the provider yet unusable: a key, an id or an order of ours is wrong, for an operator to fix.
    else if (result === 'unusable') this.logger.error(`notification ${fields}`);
    else this.logger.warn(`notification ${fields}`);
    if (rejection) await this.fileRefusal(provider, route === 'callback' ? raw : null, incoming, rejection);
    this.metrics.notifications.inc({ provider: name, outcome: result });
    if (rejection) this.metrics.notificationRejections.inc({ provider: name, reason: rejection });
    writeAcknowledgement(res, (byContract ?? provider).acknowledge(answer, reason));
  }
}
