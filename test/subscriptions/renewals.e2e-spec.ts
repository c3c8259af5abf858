// The renewal job end to end through the sandbox, on both providers: cycles walked with --as-of (the CLI
// and the job with a clock of their own), failures and recovery in grace, lapse, cancel, a late success
// refunded, two runners at once. Each test's member first buys a month, so T is the end of that month.
import { TEST_JWT_SECRET } from '../support/app';
import { activeContract, until } from '../support/contracts';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox } from '../support/orders';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { main as renewalsCli } from '../../src/subscriptions/renewals.cli';
import { RenewalJob } from '../../src/subscriptions/renewal.job';
import { deductionWindowFrom } from '../../src/subscriptions/renewal-schedule';
import type { ProviderName } from '../../src/payments/provider-name';
import { MembershipService } from '../../src/membership/membership.service';

const DAY = 86_400_000;

describe('renewals by contract', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
  afterEach(() => sandboxCall(sb, 'DELETE', '/sandbox/faults'));

  const run = (asOf: Date) => t.app.get(RenewalJob).run(asOf);
  const contractRow = async (no: string) => (await t.db.query('SELECT * FROM contracts WHERE contract_no = $1', [no])).rows[0];
  const cycles = async (contractId: string) =>
    (
      await t.db.query(
        `SELECT rc.*, o.order_no, o.status AS order_status, o.source FROM renewal_cycles rc JOIN orders o ON o.id = rc.order_id
          WHERE rc.contract_id = $1 ORDER BY rc.cycle`,
        [contractId],
      )
    ).rows;
  const eventsOf = async (userId: string, type: string) =>
    (await t.db.query('SELECT payload FROM order_events WHERE user_id = $1 AND type = $2 ORDER BY id', [userId, type])).rows.map(
      (r) => r.payload,
    );
  const deductionsOf = async (orderId: string) =>
    (await t.db.query('SELECT * FROM payment_records WHERE order_id = $1 AND contract_id IS NOT NULL ORDER BY created_at', [orderId])).rows;

  /** A member with a paid month and an active contract on the provider. */
  async function member(user: string, provider: ProviderName) {
    const order = await createOrder(t, user, { payment_method: provider });
    await payAtSandbox(sb, order.qr_code_url);
    await until(`${user}'s first month paid`, async () => {
      const { rows } = await t.db.query(`SELECT status FROM orders WHERE order_no = $1`, [order.order_no]);
      return rows[0].status === 'paid';
    });
    return activeContract(t.app, t.db, sb, user, provider);
  }

  /** Runs the job as of each next_run_at of the contract until `done` holds (at most `steps` runs). */
  async function walk(contractNo: string, done: (c: Record<string, any>) => boolean, steps = 12) {
    for (let i = 0; i < steps; i++) {
      const c = await contractRow(contractNo);
      if (done(c)) return c;
      if (!c.next_run_at && c.next_renewal_at) throw new Error(`contract ${contractNo} waits for nothing (${c.status})`);
      await run(c.next_run_at ?? new Date());
      // A WeChat deduction's result comes by callback: give it a moment before the next run.
      await until(`contract ${contractNo} settled its in-flight deduction`, async () => {
        const { rows } = await t.db.query(
          `SELECT count(*)::int AS n FROM payment_records pr JOIN renewal_cycles rc ON rc.order_id = pr.order_id
             JOIN contracts c ON c.id = rc.contract_id
            WHERE c.contract_no = $1 AND pr.status = 'pending' AND pr.contract_id IS NOT NULL`,
          [contractNo],
        );
        return rows[0].n === 0 || 'pending';
      });
    }
    const c = await contractRow(contractNo);
    if (!done(c)) throw new Error(`contract ${contractNo} never reached the state: ${JSON.stringify(c)}`);
    return c;
  }

  it.each<ProviderName>(['alipay', 'wechat'])(
    '%s: three renewals walked with --as-of, each period starting exactly at T, one deduction and one order.paid per cycle',
    async (provider) => {
      const user = `ren-3-${provider}`;
      const contract = await member(user, provider);
      const paidEnd = new Date((await t.db.query('SELECT max(ends_at) AS e FROM membership_periods WHERE user_id = $1', [user])).rows[0].e);

      // The CLI, as an operator runs it: the first pass finds T (the end of the paid month) and waits.
      const lines: string[] = [];
      const env = {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: t.database.url,
        DATA_DIR: t.dataDir,
        JWT_SECRET: TEST_JWT_SECRET,
        ...providerEnv(sb, Number(new URL(t.url).port)),
      };
      expect(await renewalsCli(['--as-of', new Date().toISOString()], env, (l) => lines.push(l))).toBe(0);
      expect((await contractRow(contract.contract_no)).next_renewal_at).toEqual(paidEnd);
      const dry: string[] = [];
      const reminderAt = new Date(paidEnd.getTime() - 5 * DAY);
      expect(await renewalsCli(['--as-of', reminderAt.toISOString(), '--dry-run'], env, (l) => dry.push(l))).toBe(0);
      expect(dry.join('\n')).toContain(`${contract.contract_no} ${provider} cycle 1: open_cycle`);
      expect(await renewalsCli(['--as-of', reminderAt.toISOString()], env, (l) => lines.push(l))).toBe(0);
      expect(lines.join('\n')).toMatch(/reminders 1,/);
      expect(await eventsOf(user, 'membership.renewal_upcoming')).toEqual([
        expect.objectContaining({ plan_code: 'basic_monthly', amount: 1990, charge_on: paidEnd.toISOString(), provider }),
      ]);

      let T = paidEnd;
      for (let k = 1; k <= 3; k++) {
        const after = await walk(contract.contract_no, (c) => c.cycles_renewed === k);
        const [cycle] = (await cycles(contract.id)).filter((c) => c.cycle === k);
        expect(cycle).toMatchObject({ status: 'paid', order_status: 'paid', source: 'renewal', tries: 1 });
        expect(new Date(cycle.due_at)).toEqual(T);
        const period = (await t.db.query('SELECT starts_at, ends_at FROM membership_periods WHERE order_id = $1', [cycle.order_id])).rows;
        expect(period).toHaveLength(1);
        expect(new Date(period[0].starts_at)).toEqual(T);
        expect((await deductionsOf(cycle.order_id)).map((d) => d.status)).toEqual(['success']);
        T = new Date(period[0].ends_at);
        expect(new Date(after.next_renewal_at)).toEqual(T);
        expect(after.status).toBe('active');
      }
      expect(await eventsOf(user, 'membership.renewal_upcoming')).toHaveLength(3);
      // Support's story of a renewal order names the contract and the cycle it paid.
      const [first] = await cycles(contract.id);
      const story = (
        await t.http
          .get(`/api/v1/admin/orders/${first.order_no}/timeline`)
          .set('Authorization', `Bearer ${t.adminToken('agent-1')}`)
          .expect(200)
      ).body;
      const created = story.timeline.find((e: { kind: string }) => e.kind === 'order.created');
      expect(created.detail).toMatchObject({
        source: 'renewal',
        contract: { contract_no: contract.contract_no, status: 'active', renewal_cycle: 1 },
      });
      expect((await eventsOf(user, 'membership.renewed')).map((e) => e.cycle)).toEqual([1, 2, 3]);
      const paid = await t.db.query(
        `SELECT count(*)::int AS n FROM order_events e JOIN renewal_cycles rc ON rc.order_id = e.order_id
          WHERE rc.contract_id = $1 AND e.type = 'order.paid'`,
        [contract.id],
      );
      expect(paid.rows[0].n).toBe(3);
    },
  );

  it.each<ProviderName>(['alipay', 'wechat'])(
    '%s: a failed renewal goes past_due with grace, is retried the next day and recovers',
    async (provider) => {
      const user = `ren-rec-${provider}`;
      const contract = await member(user, provider);
      await run(new Date());
      const T = new Date((await contractRow(contract.contract_no)).next_renewal_at);
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider, op: 'deduct', mode: 'declined', times: 1 });
      const failed = await walk(contract.contract_no, (c) => c.status === 'past_due');
      expect(new Date(failed.grace_ends_at)).toEqual(new Date(T.getTime() + 3 * DAY));
      // In grace the member keeps the level that lapsed; grace is no period, and it ends.
      const membership = t.app.get(MembershipService);
      const inGrace = new Date(T.getTime() + DAY);
      const [during] = await membership.entitlements([user], inGrace);
      expect(during).toMatchObject({ active: true, level: 1, in_grace: true, expires_at: T.toISOString() });
      expect(await membership.me(user, inGrace)).toMatchObject({ active: true, level: 1, in_grace: true });
      const [after] = await membership.entitlements([user], new Date(T.getTime() + 3 * DAY));
      expect(after).toMatchObject({ active: false, level: null, in_grace: false });
      const [failure] = await eventsOf(user, 'membership.renewal_failed');
      expect(failure).toMatchObject({ tries: 1, reason: provider === 'alipay' ? 'ACQ.BUYER_BALANCE_NOT_ENOUGH' : 'NOTENOUGH' });
      expect(new Date(failure.next_try_at).getTime()).toBeGreaterThan(new Date(failed.next_run_at).getTime() - 1);

      const recovered = await walk(contract.contract_no, (c) => c.cycles_renewed === 1);
      expect(recovered).toMatchObject({ status: 'active', grace_ends_at: null });
      const [cycle] = await cycles(contract.id);
      expect(cycle).toMatchObject({ status: 'paid', tries: 2 });
      const tries = await deductionsOf(cycle.order_id);
      expect(tries.map((d) => d.status)).toEqual(['failed', 'success']);
      expect(tries[0].payment_no).not.toBe(tries[1].payment_no);
      expect(await eventsOf(user, 'membership.renewal_recovered')).toHaveLength(1);
      expect(await eventsOf(user, 'membership.renewed')).toHaveLength(1);
    },
  );

  it.each<ProviderName>(['alipay', 'wechat'])(
    '%s: failures until lapse: three tries, terminated at the provider, the order closed',
    async (provider) => {
      const user = `ren-lapse-${provider}`;
      const contract = await member(user, provider);
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider, op: 'deduct', mode: 'declined' });
      const lapsed = await walk(contract.contract_no, (c) => c.status === 'lapsed', 20);
      expect(lapsed.ended_by).toBe('merchant');
      const [cycle] = await cycles(contract.id);
      expect(cycle).toMatchObject({ status: 'failed', tries: 3, order_status: 'closed' });
      expect((await deductionsOf(cycle.order_id)).map((d) => d.status)).toEqual(['failed', 'failed', 'failed']);
      expect((await eventsOf(user, 'membership.renewal_failed')).map((e) => e.tries)).toEqual([1, 2, 3]);
      expect(await eventsOf(user, 'membership.auto_renew_lapsed')).toEqual([expect.objectContaining({ reason: 'RETRIES_EXHAUSTED' })]);
      const atProvider = await sandboxCall(sb, 'GET', `/sandbox/contracts/${contract.provider_contract_id}`);
      expect(JSON.stringify(atProvider.body)).toMatch(/terminated|STOP|UNSIGN/i);
      // Nothing more is tried.
      await run(new Date(Date.now() + 60 * DAY));
      expect(await deductionsOf(cycle.order_id)).toHaveLength(3);
      // The metrics: deductions by outcome, contracts by state (read by the run).
      const metrics = (await t.http.get('/metrics').expect(200)).text;
      expect(metrics).toMatch(new RegExp(`^memberpay_deductions_total\\{provider="${provider}",outcome="failed"\\} [3-9]\\d*$`, 'm'));
      expect(metrics).toMatch(new RegExp(`^memberpay_contracts\\{provider="${provider}",status="lapsed"\\} [1-9]\\d*$`, 'm'));
      expect(metrics).toMatch(/^memberpay_renewals_due\{state="late"\} \d+$/m);
    },
  );

  it('cancelled after the reminder: the renewal order is closed and nothing is charged', async () => {
    const user = 'ren-cancel';
    const contract = await member(user, 'alipay');
    await walk(contract.contract_no, (c) => c.next_renewal_at !== null);
    const T = new Date((await contractRow(contract.contract_no)).next_renewal_at);
    await run(new Date(T.getTime() - 5 * DAY));
    expect(await cycles(contract.id)).toHaveLength(1);
    // The renewal order is the contract's to pay: the member cannot cancel it or pay it by a code.
    const auth = { Authorization: `Bearer ${t.token(user)}` };
    const [open] = await cycles(contract.id);
    for (const action of ['cancel', 'qr-code']) {
      const refused = await t.http.post(`/api/v1/payment/orders/${open.order_no}/${action}`).set(auth);
      expect([refused.status, refused.body.code]).toEqual([409, 'ORDER_NOT_PAYABLE']);
    }
    await t.http.post('/api/v1/membership/auto-renew/cancel').set(auth).expect(200);
    const [cycle] = await cycles(contract.id);
    expect(cycle).toMatchObject({ status: 'abandoned', order_status: 'closed' });
    await run(T);
    await run(new Date(T.getTime() + 5 * DAY));
    expect(await deductionsOf(cycle.order_id)).toHaveLength(0);
  });

  it.each<ProviderName>(['alipay', 'wechat'])(
    '%s: the member unsigns inside the provider during a cycle: the cycle is abandoned, nothing charged',
    async (provider) => {
      const user = `ren-unsign-${provider}`;
      const contract = await member(user, provider);
      await walk(contract.contract_no, (c) => c.next_renewal_at !== null);
      const T = new Date((await contractRow(contract.contract_no)).next_renewal_at);
      await run(new Date(T.getTime() - 5 * DAY));
      await sandboxCall(
        sb,
        'POST',
        '/sandbox/contracts/unsign',
        provider === 'wechat' ? { contract_id: contract.provider_contract_id } : { agreement_no: contract.provider_contract_id },
      );
      await until('cancelled by the provider notification', async () => (await contractRow(contract.contract_no)).status === 'cancelled');
      const [cycle] = await cycles(contract.id);
      expect(cycle).toMatchObject({ status: 'abandoned', order_status: 'closed' });
      await run(T);
      expect(await deductionsOf(cycle.order_id)).toHaveLength(0);
    },
  );

  it('support cancels for a member: terminated at the provider, ended by support, who and why in the audit log; idempotent', async () => {
    const user = 'ren-support';
    const contract = await member(user, 'wechat');
    await walk(contract.contract_no, (c) => c.next_renewal_at !== null);
    const T = new Date((await contractRow(contract.contract_no)).next_renewal_at);
    await run(new Date(T.getTime() - 5 * DAY));
    const path = `/api/v1/admin/members/${user}/auto-renew/cancel`;
    const admin = { Authorization: `Bearer ${t.adminToken('agent-7')}` };
    await t.http
      .post(path)
      .set({ Authorization: `Bearer ${t.token(user)}` })
      .send({ reason: 'x' })
      .expect(403);
    const noReason = await t.http.post(path).set(admin).send({});
    expect([noReason.status, noReason.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await contractRow(contract.contract_no)).status).toBe('active');

    const done = await t.http.post(path).set(admin).send({ reason: '会员来电要求取消' }).expect(200);
    expect(done.body).toMatchObject({ contract_no: contract.contract_no, status: 'cancelled' });
    expect(await contractRow(contract.contract_no)).toMatchObject({ status: 'cancelled', ended_by: 'support' });
    const audit = (await t.db.query(`SELECT * FROM admin_audit_log WHERE action = 'auto_renewal.cancelled' AND target = $1`, [user])).rows;
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'agent-7',
        target_type: 'member',
        reason: '会员来电要求取消',
        detail: expect.objectContaining({ contract_no: contract.contract_no }),
      }),
    ]);
    const [cycle] = await cycles(contract.id);
    expect(cycle).toMatchObject({ status: 'abandoned', order_status: 'closed' });
    const atProvider = await sandboxCall(sb, 'GET', `/sandbox/contracts/${contract.provider_contract_id}`);
    expect(atProvider.body).toMatchObject({ state: 'terminated' });
    const again = await t.http.post(path).set(admin).send({ reason: 'again' }).expect(200);
    expect(again.body).toEqual(done.body);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM admin_audit_log WHERE target = $1`, [user])).rows[0].n).toBe(1);
  });

  it('a deduction that succeeds after the member cancelled is refunded, like a double payment; no period is granted', async () => {
    const user = 'ren-late';
    const contract = await member(user, 'wechat');
    await walk(contract.contract_no, (c) => c.next_renewal_at !== null);
    const T = new Date((await contractRow(contract.contract_no)).next_renewal_at);
    await run(new Date(T.getTime() - 5 * DAY));
    // Charged at WeChat, but its callback never comes: the deduction stays pending here.
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'deduct', mode: 'no-callback', times: 1 });
    await run((await contractRow(contract.contract_no)).next_run_at);
    const [cycle] = await cycles(contract.id);
    expect((await deductionsOf(cycle.order_id)).map((d) => d.status)).toEqual(['pending']);

    await t.http
      .post('/api/v1/membership/auto-renew/cancel')
      .set('Authorization', `Bearer ${t.token(user)}`)
      .expect(200);
    expect((await cycles(contract.id))[0]).toMatchObject({ status: 'abandoned', order_status: 'closed' });
    // The job's deduction query finds it paid: settled as a double payment and refunded.
    await run(new Date(Date.now() + 10 * 60_000));
    const [attempt] = await deductionsOf(cycle.order_id);
    expect(attempt).toMatchObject({ status: 'success', double_payment: true });
    await until('the late deduction refunded', async () => {
      const { rows } = await t.db.query(`SELECT status FROM refunds WHERE payment_no = $1 AND kind = 'duplicate_payment'`, [
        attempt.payment_no,
      ]);
      return rows[0]?.status === 'success';
    });
    expect((await t.db.query('SELECT count(*)::int AS n FROM membership_grants WHERE order_id = $1', [cycle.order_id])).rows[0].n).toBe(0);
    expect((await contractRow(contract.contract_no)).status).toBe('cancelled');
  });

  it('WeChat: a storm of duplicate deduction callbacks racing the job query and a second runner: one payment, one period, one renewed', async () => {
    const user = 'ren-storm';
    const contract = await member(user, 'wechat');
    await walk(contract.contract_no, (c) => c.next_renewal_at !== null);
    const T = new Date((await contractRow(contract.contract_no)).next_renewal_at);
    await run(new Date(T.getTime() - 5 * DAY));
    // Charged, its callback held back: the deduction is pending here until the storm or the query says paid.
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'deduct', mode: 'no-callback', times: 1 });
    const due = new Date((await contractRow(contract.contract_no)).next_run_at);
    await run(due);
    const [cycle] = await cycles(contract.id);
    const [attempt] = await deductionsOf(cycle.order_id);
    expect(attempt.status).toBe('pending');
    const later = new Date(due.getTime() + 10 * 60_000);
    await Promise.all([
      sandboxCall(sb, 'POST', '/sandbox/contracts/resend', { out_trade_no: attempt.payment_no, copies: 30, concurrent: true }),
      run(later),
      run(later),
    ]);
    await until('renewed', async () => (await contractRow(contract.contract_no)).cycles_renewed === 1);
    expect((await deductionsOf(cycle.order_id)).map((d) => [d.status, d.double_payment])).toEqual([['success', false]]);
    expect((await t.db.query('SELECT count(*)::int AS n FROM membership_periods WHERE order_id = $1', [cycle.order_id])).rows[0].n).toBe(1);
    expect(await eventsOf(user, 'membership.renewed')).toHaveLength(1);
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM order_events WHERE order_id = $1 AND type = 'order.paid'`, [cycle.order_id]))
        .rows[0].n,
    ).toBe(1);
  });

  it('two job runners at once: exactly one deduction and one period per cycle', async () => {
    const contracts = [];
    for (let i = 0; i < 4; i++) contracts.push(await member(`ren-race-${i}`, i % 2 ? 'wechat' : 'alipay'));
    await run(new Date());
    let latest = 0;
    for (const c of contracts) latest = Math.max(latest, new Date((await contractRow(c.contract_no)).next_renewal_at).getTime());
    // Late enough for every contract's deduction, inside WeChat's window.
    const asOf = deductionWindowFrom('wechat', new Date(latest));
    await Promise.all([run(new Date(asOf.getTime() - 5 * DAY)), run(new Date(asOf.getTime() - 5 * DAY))]);
    await Promise.all([run(asOf), run(asOf), run(asOf)]);
    for (const c of contracts) {
      const after = await walk(c.contract_no, (row) => row.cycles_renewed === 1);
      expect(after.status).toBe('active');
      const all = await cycles(c.id);
      expect(all.filter((x) => x.cycle === 1)).toHaveLength(1);
      const [cycle] = all;
      expect((await deductionsOf(cycle.order_id)).map((d) => d.status)).toEqual(['success']);
      expect((await t.db.query('SELECT count(*)::int AS n FROM membership_periods WHERE order_id = $1', [cycle.order_id])).rows[0].n).toBe(
        1,
      );
    }
  });
});
