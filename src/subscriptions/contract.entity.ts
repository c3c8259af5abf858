import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import { MembershipPlan } from '../membership/membership-plan.entity';
import { Order } from '../orders/order.entity';
import type { ProviderName } from '../payments/provider-name';

/**
 * Where a contract is (docs/contracts.md#the-states-memberpay-and-the-sandbox-share): `pending` until the
 * provider says it is signed, `active`, `past_due` (a renewal failed, retries running), then `cancelled`
 * (ended by the member, us or the provider) or `lapsed` (renewals failed past the grace).
 */
export type ContractStatus = 'pending' | 'active' | 'past_due' | 'cancelled' | 'lapsed';
export type ContractEndedBy = 'member' | 'merchant' | 'provider' | 'support';

/**
 * A member's auto-renewal contract with one provider. contract_no is ours (WeChat contract_code, Alipay
 * external_agreement_no); provider_contract_id is theirs (contract_id / agreement_no), known once signed.
 * At most one open contract per member (UQ_contracts_one_open_per_member).
 */
@Entity('contracts')
@Unique('UQ_contracts_contract_no', ['contractNo'])
@Index('UQ_contracts_provider_contract', ['provider', 'providerContractId'], { unique: true, where: `"provider_contract_id" IS NOT NULL` })
@Index('UQ_contracts_first_order', ['firstOrderId'], { unique: true, where: `"first_order_id" IS NOT NULL` })
@Index('UQ_contracts_one_open_per_member', ['userId'], { unique: true, where: `"status" IN ('pending', 'active', 'past_due')` })
@Index('IDX_contracts_renewal_due', ['nextRunAt'], { where: `"status" IN ('active', 'past_due')` })
@Check('CHK_contracts_contract_no', `"contract_no" ~ '^[0-9A-Za-z]{1,32}$'`)
@Check('CHK_contracts_amount', '"amount" > 0')
@Check('CHK_contracts_status', `"status" IN ('pending', 'active', 'past_due', 'cancelled', 'lapsed')`)
@Check('CHK_contracts_provider', `"provider" IN ('wechat', 'alipay')`)
@Check('CHK_contracts_ended_by', `"ended_by" IN ('member', 'merchant', 'provider', 'support')`)
export class Contract {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_contracts' })
  id: string;

  @Column({ type: 'varchar', length: 32 })
  contractNo: string;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'varchar', length: 16 })
  provider: ProviderName;

  @Column({ type: 'integer' })
  planId: number;

  @ManyToOne(() => MembershipPlan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'FK_contracts_plan' })
  plan?: MembershipPlan;

  /** Every renewal's amount, fixed at signing: a later price change does not touch it. */
  @Column({ name: 'amount', type: 'integer' })
  amountFen: number;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: ContractStatus;

  /**
   * The order the member bought with auto-renewal and signed this contract with: its payment is the
   * first period (paid with the signing, or deducted once signed where the provider signs first).
   */
  @Column({ type: 'uuid', nullable: true })
  firstOrderId: string | null;

  @ManyToOne(() => Order, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'first_order_id', foreignKeyConstraintName: 'FK_contracts_first_order' })
  firstOrder?: Order;

  @Column({ type: 'varchar', length: 64, nullable: true })
  providerContractId: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  signedAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  endedBy: ContractEndedBy | null;

  /** T of the coming cycle: the end of the member's paid time, when the next period must start. Null until the job first sees the contract. */
  @Column({ type: 'timestamptz', nullable: true })
  nextRenewalAt: Date | null;

  /** While past_due: access is kept until then (grace is never a paid period, never in the ledger). */
  @Column({ type: 'timestamptz', nullable: true })
  graceEndsAt: Date | null;

  /** When the renewal job next looks at the contract; a claim moves it to the end of a lease. */
  @Column({ type: 'timestamptz', nullable: true })
  nextRunAt: Date | null;

  /** Cycles paid by deduction so far (the next cycle is this + 1). */
  @Column({ type: 'integer', default: 0 })
  cyclesRenewed: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
