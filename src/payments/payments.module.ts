import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { NotificationRouter } from './notification-router';
import { NotificationsController } from './notifications.controller';
import { PaymentRecord } from './payment-record.entity';
import { ReturnPageController } from './return-page.controller';
import { PaymentAttemptsService } from './payment-attempts.service';
import { PaymentRecordsRepository } from './payment-records.repository';
import { PaymentsService } from './payments.service';
import { SettlementRepository } from './settlement.repository';
import { PROVIDER_DESCRIPTORS } from './provider-catalog';
import { PAYMENT_PROVIDERS, ProviderRegistry } from './provider-registry';

@Module({
  imports: [TypeOrmModule.forFeature([PaymentRecord])],
  controllers: [NotificationsController, ReturnPageController],
  providers: [
    {
      // One entry per payment method; an unconfigured method is simply absent (off).
      provide: PAYMENT_PROVIDERS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        PROVIDER_DESCRIPTORS.map((d) => {
          const section = config[d.name];
          return section ? d.create(section, config.providerTimeoutMs) : null;
        }),
    },
    ProviderRegistry,
    NotificationRouter,
    PaymentsService,
    PaymentAttemptsService,
    PaymentRecordsRepository,
    SettlementRepository,
  ],
  exports: [NotificationRouter, PaymentsService, PaymentAttemptsService, PaymentRecordsRepository, ProviderRegistry],
})
export class PaymentsModule {}
