import { Controller, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.guard';
import { requestIdOf } from '../common/request-id';
import { MetricsService } from '../metrics/metrics.service';
import {
  NotificationRejected,
  NotificationRejectionReason,
  NotificationResult,
  RefundEvent,
  writeAcknowledgement,
} from '../payments/payment-provider';
import { ProviderRegistry } from '../payments/provider-registry';
import { RefundApplyResult, RefundsService } from './refunds.service';

/**
 * POST /api/v1/payment/wechat/refund-callback, the refund notify_url sent with every WeChat Pay
 * refund. Verified and decrypted like a payment notification; answered in WeChat Pay's format.
 * (Alipay's refunds are synchronous and confirmed by query: it has no refund callback here.)
 */
@ApiTags('provider callbacks')
@Public()
@Controller('api/v1/payment')
export class RefundNotificationsController {
  private readonly logger = new Logger('Notifications');

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly refunds: RefundsService,
    private readonly metrics: MetricsService,
  ) {}

  @Post('wechat/refund-callback')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Refund notifications from WeChat Pay (REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED)',
    description:
      "Sent as notify_url with each refund (WECHAT_PAY_REFUND_NOTIFY_URL, by default the payment callback's sibling). " +
      'Verified over the raw bytes and decrypted like payment notifications. 204 accepted; 4xx/5xx `{"code":"FAIL","message":…}`.',
  })
  @ApiResponse({ status: 204, description: 'accepted' })
  @ApiResponse({ status: 400, description: 'rejected (forged, stale, not ours, unknown refund, wrong amount): nothing changed' })
  @ApiResponse({
    status: 500,
    description: 'we failed (database down, or a notification that does not decrypt with our API v3 key): WeChat Pay retries',
  })
  async receive(@Req() req: Request & { rawBody?: Buffer }, @Res() res: Response): Promise<void> {
    const provider = this.registry.find('wechat');
    if (!provider?.verifyRefundNotification) {
      res.status(404).json({ code: 'FAIL', message: 'WeChat Pay is not enabled' });
      return;
    }
    let result: NotificationResult | 'unusable';
    let answer: NotificationResult;
    let reason: string | undefined;
    let rejection: NotificationRejectionReason | undefined;
    let event: RefundEvent | undefined;
    let applied: RefundApplyResult | undefined;
    try {
      event = await provider.verifyRefundNotification({ headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) });
      applied = await this.refunds.applyEvent(event, 'notification');
      result = answer = 'accepted';
    } catch (e) {
      if (e instanceof NotificationRejected) {
        result = e.unusable ? 'unusable' : 'rejected';
        answer = e.retryLater ? 'retry' : 'rejected';
        rejection = e.reason;
        reason = e.message;
      } else {
        result = answer = 'retry';
        reason = 'temporarily unable to process';
        this.logger.error(`refund notification from wechat failed: ${(e as Error)?.message ?? e}`);
      }
    }
    const fields = [
      'provider=wechat',
      `outcome=${result}`,
      rejection && `rejection=${rejection}`,
      applied && `result=${applied}`,
      event && `refund_no=${event.refundNo}`,
      event && `refund_status=${event.providerState}`,
      event?.eventId && `event_id=${event.eventId}`,
      reason && `reason="${reason}"`,
      `request_id=${requestIdOf(req)}`,
    ]
      .filter(Boolean)
      .join(' ');
    if (result === 'accepted') this.logger.log(`refund notification ${fields}`);
    // Signed by WeChat Pay yet unusable: a key, an id or a refund of ours is wrong, for an operator to fix.
    else if (result === 'unusable') this.logger.error(`refund notification ${fields}`);
    else this.logger.warn(`refund notification ${fields}`);
    this.metrics.notifications.inc({ provider: 'wechat_refund', outcome: result });
    if (rejection) this.metrics.notificationRejections.inc({ provider: 'wechat_refund', reason: rejection });
    writeAcknowledgement(res, provider.acknowledge(answer, reason));
  }
}
