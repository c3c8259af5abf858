// WeChat Pay templates whose pre-deduction notice is the merchant's (WECHAT_PAY_PAPAY_NOTICE=merchant): the
// renewal job sends the v3 notice from T − 3 days, once per cycle, and deducts no sooner than two days after it.
import { memberpayEnv } from '../../sandbox/env';
import { RenewalJob } from '../../src/subscriptions/renewal.job';
import { activeContract, until } from '../support/contracts';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox } from '../support/orders';
import { sandboxCall } from '../support/sandbox';

const DAY = 86_400_000;

describe('renewals with the merchant pre-deduction notice', () => {
  const { t, sb } = useApp(
    (port) => ({ ...memberpayEnv(sb.credentials, String(port), { wechat: true, alipay: false }, 'merchant'), PAYMENT_SANDBOX: '1' }),
    { sandbox: true },
  );
  const run = (asOf: Date) => t.app.get(RenewalJob).run(asOf);
  const contractRow = async (no: string) => (await t.db.query('SELECT * FROM contracts WHERE contract_no = $1', [no])).rows[0];

  it('notice at T − 3 days (once), the deduction two days later, paid at T', async () => {
    const user = 'ren-notice';
    const first = await createOrder(t, user, { payment_method: 'wechat' });
    await payAtSandbox(sb, first.qr_code_url);
    await until(
      'the first month paid',
      async () => (await t.db.query('SELECT status FROM orders WHERE order_no = $1', [first.order_no])).rows[0].status === 'paid',
    );
    const contract = await activeContract(t.app, t.db, sb, user, 'wechat');
    await run(new Date());
    const T = new Date((await contractRow(contract.contract_no)).next_renewal_at);

    await run(new Date(T.getTime() - 5 * DAY));
    expect(new Date((await contractRow(contract.contract_no)).next_run_at)).toEqual(new Date(T.getTime() - 3 * DAY));
    const report = await run(new Date(T.getTime() - 3 * DAY));
    expect(report).toMatchObject({ notices: 1, deductions: 0 });
    const atProvider = await sandboxCall(sb, 'GET', `/sandbox/contracts/${contract.provider_contract_id}`);
    expect(JSON.stringify(atProvider.body)).toContain('notice');
    const cycle = (await t.db.query('SELECT * FROM renewal_cycles WHERE contract_id = $1', [contract.id])).rows[0];
    expect(cycle.noticed_at).not.toBeNull();
    // Not before two days after the notice (and inside WeChat's window).
    const next = new Date((await contractRow(contract.contract_no)).next_run_at);
    expect(next.getTime()).toBeGreaterThanOrEqual(T.getTime() - DAY);
    expect(await run(new Date(next.getTime() - 60_000))).toMatchObject({ deductions: 0 });
    expect(await run(next)).toMatchObject({ deductions: 1, notices: 0 });
    await until('renewed', async () => (await contractRow(contract.contract_no)).cycles_renewed === 1);
    const period = (await t.db.query('SELECT starts_at FROM membership_periods WHERE order_id = $1', [cycle.order_id])).rows[0];
    expect(new Date(period.starts_at)).toEqual(T);
  });
});
