import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EntitlementsController } from './entitlements.controller';
import { MembershipController } from './membership.controller';
import { MembershipGrant } from './membership-grant.entity';
import { MembershipPeriod } from './membership-period.entity';
import { MembershipPlan } from './membership-plan.entity';
import { MembershipRepository } from './membership.repository';
import { MembershipService } from './membership.service';

@Module({
  imports: [TypeOrmModule.forFeature([MembershipPlan, MembershipGrant, MembershipPeriod])],
  controllers: [MembershipController, EntitlementsController],
  providers: [MembershipService, MembershipRepository],
  exports: [MembershipService],
})
export class MembershipModule {}
