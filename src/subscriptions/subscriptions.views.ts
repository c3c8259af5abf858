import { ApiProperty } from '@nestjs/swagger';
import type { ContractRow } from './contracts.repository';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

/**
 * A member's auto-renewal contract as support sees it. Only what every contract has today; the
 * renewal schedule (next renewal, grace) joins it once renewals exist.
 */
export class AdminContractView {
  @ApiProperty({ example: 'AR20261206103000K7Q2M9XW4P1Z', description: 'ours: WeChat Pay contract_code, Alipay external_agreement_no' })
  contract_no: string;
  @ApiProperty({ enum: ['pending', 'active', 'past_due', 'cancelled', 'lapsed'] }) status: string;
  @ApiProperty({ enum: ['wechat', 'alipay'] }) provider: string;
  @ApiProperty({ description: 'the plan renewed' }) plan_id: number;
  @ApiProperty({ description: 'every renewal, in fen', example: 1990 }) amount: number;
  @ApiProperty({ type: String, nullable: true, description: "the provider's: WeChat Pay contract_id, Alipay agreement_no" })
  provider_contract_id: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) signed_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) ended_at: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['member', 'merchant', 'provider', 'support'] }) ended_by: string | null;
}

export function adminContractView(c: ContractRow): AdminContractView {
  return {
    contract_no: c.contract_no,
    status: c.status,
    provider: c.provider,
    plan_id: c.plan_id,
    amount: c.amount,
    provider_contract_id: c.provider_contract_id,
    signed_at: iso(c.signed_at),
    ended_at: iso(c.ended_at),
    ended_by: c.ended_by,
  };
}
