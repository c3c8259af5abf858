import type { INestApplicationContext } from '@nestjs/common';
import type { Client } from 'pg';
import { newPaymentNo } from '../../src/common/trade-numbers';
import { AgreementRegistry } from '../../src/payments/agreement-registry';
import type { AgreementProvider } from '../../src/payments/agreements';
import type { ProviderName } from '../../src/payments/provider-name';
import type { ContractRow } from '../../src/subscriptions/contracts.repository';
import { SubscriptionsService } from '../../src/subscriptions/subscriptions.service';
import { Sandbox, sandboxCall } from './sandbox';

/** Polls until `check` gives a value (a row reached a state, a callback arrived), or fails after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * An active contract without the purchase flow: a pending contract of the subscriptions module, signed
 * at the sandbox (WeChat Pay: its pay-and-sign code paid with a payment number that is no attempt of ours,
 * so that callback is refused and only the contract half counts; Alipay: the agreement page).
 */
export async function activeContract(
  app: INestApplicationContext,
  db: Client,
  sb: Sandbox,
  userId: string,
  provider: ProviderName,
  plan: { id: number; code: string } = { id: 1, code: 'basic_monthly' },
  amountFen = 1990,
): Promise<ContractRow & { provider_contract_id: string }> {
  const subs = app.get(SubscriptionsService);
  const adapter = app.get(AgreementRegistry).find(provider) as AgreementProvider;
  const contract = await subs.openPending(userId, provider, plan, amountFen);
  const signing = await adapter.sign({
    contractNo: contract.contract_no,
    paymentNo: newPaymentNo(new Date()),
    planCode: plan.code,
    amountFen,
    description: '会员月卡（自动续费）',
    displayAccount: userId.slice(0, 32),
    periodDays: 30,
    firstDeductionDate: new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10),
    clientIp: '127.0.0.1',
  });
  await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url });
  return until(`contract ${contract.contract_no} active`, async () => {
    const { rows } = await db.query(`SELECT * FROM contracts WHERE contract_no = $1 AND status = 'active'`, [contract.contract_no]);
    return rows[0] as (ContractRow & { provider_contract_id: string }) | undefined;
  });
}

/**
 * WECHAT_PAY_PAPAY_PLAN_IDS with every WeChat Pay template of the sandbox but basic_yearly's: that plan
 * then renews with Alipay only, for the tests of a plan and method that cannot sign.
 */
export function papayPlansWithoutYearly(sb: Sandbox): string {
  return Object.entries(sb.credentials.wechat.papayPlans.wechat)
    .filter(([code]) => code !== 'basic_yearly')
    .map(([code, id]) => `${code}:${id}`)
    .join(',');
}
