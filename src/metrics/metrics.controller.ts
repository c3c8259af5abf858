import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/auth.guard';
import { MetricsService } from './metrics.service';

/** GET /metrics in the Prometheus text format. Expose it to the scraper's network only. */
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
