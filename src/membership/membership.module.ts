import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipController } from './membership.controller';
import { MembershipGrant } from './membership-grant.entity';
import { MembershipPlan } from './membership-plan.entity';
import { MembershipService } from './membership.service';
import { UserMembership } from './user-membership.entity';

@Module({
  imports: [TypeOrmModule.forFeature([MembershipPlan, UserMembership, MembershipGrant])],
  controllers: [MembershipController],
  providers: [MembershipService],
  exports: [MembershipService],
})
export class MembershipModule {}
