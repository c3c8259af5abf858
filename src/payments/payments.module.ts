import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { ExpireQrCodesJob } from './expire-qr-codes.job';
import { NotificationRouter } from './notification-router';
import { NotificationsController } from './notifications.controller';
import { NotificationRefusal } from './notification-refusal.entity';
import { NotificationRefusalsRepository } from './notification-refusals.repository';
import { PaymentRecord } from './payment-record.entity';
import { ReturnPageController } from './return-page.controller';
import { PaymentAttemptsService } from './payment-attempts.service';
import { PaymentRecordsRepository } from './payment-records.repository';
import { PaymentsService } from './payments.service';
import { SettlementRepository } from './settlement.repository';
import { PROVIDER_DESCRIPTORS } from './provider-catalog';
import { PAYMENT_PROVIDERS, ProviderRegistry } from './provider-registry';
import { QueryPaymentsJob } from './query-payments.job';
import { agreementProviders } from './agreement-providers';
import { AGREEMENT_PROVIDERS, AgreementRegistry } from './agreement-registry';
import { AgreementDeductions } from './agreement-deductions.service';

@Module({
  imports: [TypeOrmModule.forFeature([PaymentRecord, NotificationRefusal])],
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
    {
      // Auto-renewal adapters, for the providers whose configuration turns contracts on.
      provide: AGREEMENT_PROVIDERS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => agreementProviders(config, config.providerTimeoutMs),
    },
    AgreementRegistry,
    NotificationRouter,
    PaymentsService,
    AgreementDeductions,
    PaymentAttemptsService,
    PaymentRecordsRepository,
    NotificationRefusalsRepository,
    SettlementRepository,
    QueryPaymentsJob,
    ExpireQrCodesJob,
  ],
  exports: [
    NotificationRouter,
    PaymentsService,
    PaymentAttemptsService,
    PaymentRecordsRepository,
    NotificationRefusalsRepository,
    ProviderRegistry,
    QueryPaymentsJob,
    ExpireQrCodesJob,
    AgreementRegistry,
    AgreementDeductions,
  ],
})
export class PaymentsModule {}
