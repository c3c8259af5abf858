import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.guard';
import { requestIdOf } from '../common/request-id';
import { MetricsService } from '../metrics/metrics.service';
import {
  NotificationRejected,
  NotificationRejectionReason,
  NotificationResult,
  PaymentEvent,
  writeAcknowledgement,
} from './payment-provider';
import { ApplyResult, PaymentsService } from './payments.service';
import { PROVIDER_NAMES } from './provider-name';
import { ProviderRegistry } from './provider-registry';

/**
 * POST /api/v1/payment/:provider/callback, the URLs registered at WeChat Pay and Alipay. The
 * one place that answers in the provider's format rather than ours, because the sender
 * understands nothing else: every path ends in provider.acknowledge().
 */
@ApiTags('provider callbacks')
@Public()
@Controller('api/v1/payment')
export class NotificationsController {
  private readonly logger = new Logger('Notifications');

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly payments: PaymentsService,
    private readonly metrics: MetricsService,
  ) {}

  @Post(':provider/callback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Payment notifications from WeChat Pay (`wechat`) and Alipay (`alipay`)',
    description:
      'Register https://<host>/api/v1/payment/wechat/callback and …/alipay/callback at the providers. Verified over the raw bytes. Answers in the provider\'s own format: WeChat Pay 204 (accepted) or 4xx/5xx `{"code":"FAIL","message":…}`; Alipay `success` or `failure`. A 5xx asks the provider to retry.',
  })
  @ApiParam({ name: 'provider', enum: PROVIDER_NAMES })
  @ApiResponse({ status: 200, description: 'Alipay: accepted (body `success`)' })
  @ApiResponse({ status: 204, description: 'WeChat Pay: accepted' })
  @ApiResponse({ status: 400, description: 'rejected (forged, stale, not ours, unknown order, wrong amount): nothing changed' })
  @ApiResponse({
    status: 500,
    description: 'we failed (database down, or a notification that does not decrypt with our API v3 key): the provider retries',
  })
  async receive(@Param('provider') name: string, @Req() req: Request & { rawBody?: Buffer }, @Res() res: Response): Promise<void> {
    const provider = this.registry.find(name);
    if (!provider) {
      res.status(404).json({ code: 'FAIL', message: 'unknown payment provider' });
      return;
    }
    let result: NotificationResult | 'unusable';
    let answer: NotificationResult;
    let reason: string | undefined;
    let rejection: NotificationRejectionReason | undefined;
    let event: PaymentEvent | undefined;
    let outcome: ApplyResult | undefined;
    try {
      event = await provider.verifyNotification({ headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) });
      outcome = await this.payments.applyEvent(event, 'notification');
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
      outcome && `result=${outcome.result}`,
      event && `payment_no=${event.paymentNo}`,
      outcome && 'orderNo' in outcome && `order_no=${outcome.orderNo}`,
      event?.eventId && `event_id=${event.eventId}`,
      reason && `reason="${reason}"`,
      `request_id=${requestIdOf(req)}`,
    ]
      .filter(Boolean)
      .join(' ');
    if (result === 'accepted') this.logger.log(`notification ${fields}`);
    // Signed by the provider yet unusable: a key, an id or an order of ours is wrong, for an operator to fix.
    else if (result === 'unusable') this.logger.error(`notification ${fields}`);
    else this.logger.warn(`notification ${fields}`);
    this.metrics.notifications.inc({ provider: name, outcome: result });
    if (rejection) this.metrics.notificationRejections.inc({ provider: name, reason: rejection });
    writeAcknowledgement(res, provider.acknowledge(answer, reason));
  }
}
