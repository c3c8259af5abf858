import { Controller, HttpCode, Logger, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.guard';
import { requestIdOf } from '../common/request-id';
import { MetricsService } from '../metrics/metrics.service';
import { NotificationRejected, NotificationResult, PaymentEvent } from './payment-provider';
import { ApplyResult, PaymentsService } from './payments.service';
import { ProviderRegistry } from './provider-registry';

/**
 * POST /api/v1/payment/:provider/callback, the URLs registered at WeChat Pay and Alipay. The
 * one place that answers in the provider's format rather than ours, because the sender
 * understands nothing else: every path ends in provider.acknowledge().
 */
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
  async receive(@Param('provider') name: string, @Req() req: Request & { rawBody?: Buffer }, @Res() res: Response): Promise<void> {
    const provider = this.registry.find(name);
    if (!provider) {
      res.status(404).json({ code: 'FAIL', message: 'unknown payment provider' });
      return;
    }
    let result: NotificationResult;
    let reason: string | undefined;
    let event: PaymentEvent | undefined;
    let outcome: ApplyResult | undefined;
    try {
      event = await provider.verifyNotification({ headers: req.headers, rawBody: req.rawBody ?? Buffer.alloc(0) });
      outcome = await this.payments.applyEvent(event, 'notification');
      result = 'accepted';
    } catch (e) {
      if (e instanceof NotificationRejected) {
        result = 'rejected';
        reason = e.message;
      } else {
        // Ours to fix (database down, a bug): answer so that the provider sends it again.
        result = 'retry';
        reason = 'temporarily unable to process';
        this.logger.error(`notification from ${name} failed: ${(e as Error)?.message ?? e}`);
      }
    }
    const fields = [
      `provider=${name}`, `outcome=${result}`, outcome && `result=${outcome.result}`,
      event && `payment_no=${event.paymentNo}`, outcome && 'orderNo' in outcome && `order_no=${outcome.orderNo}`,
      outcome?.result === 'settled' && `order_no=${outcome.order.orderNo}`, event?.eventId && `event_id=${event.eventId}`,
      reason && `reason="${reason}"`, `request_id=${requestIdOf(req)}`,
    ].filter(Boolean).join(' ');
    if (result === 'accepted') this.logger.log(`notification ${fields}`);
    else this.logger.warn(`notification ${fields}`);
    this.metrics.notifications.inc({ provider: name, outcome: result });
    const ack = provider.acknowledge(result, reason);
    res.status(ack.status).type(ack.contentType).send(ack.body);
  }
}
