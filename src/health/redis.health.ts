import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/** Terminus has no Redis indicator of its own: a PING on a lazily opened connection. */
@Injectable()
export class RedisHealthIndicator implements OnModuleDestroy {
  private client?: Redis;

  constructor(
    private readonly config: AppConfig,
    private readonly indicator: HealthIndicatorService,
  ) {}

  get enabled(): boolean {
    return !!this.config.redisUrl;
  }

  async check(key: string) {
    const session = this.indicator.check(key);
    try {
      this.client ??= new Redis(this.config.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
      if (this.client.status === 'wait') await this.client.connect();
      await this.client.ping();
      return session.up();
    } catch {
      return session.down({ message: 'Redis does not answer' });
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.client?.quit().catch(() => undefined);
  }
}
