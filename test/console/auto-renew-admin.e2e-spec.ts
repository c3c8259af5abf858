import { newPaymentNo } from '../../src/common/trade-numbers';
import { AgreementRegistry } from '../../src/payments/agreement-registry';
import type { AgreementProvider } from '../../src/payments/agreements';
import { SubscriptionsService } from '../../src/subscriptions/subscriptions.service';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

// Support's side of auto-renewal: the member view shows the member's contract (read through the
// subscriptions module), and support cancels it with a required reason, recorded in the audit log in
// the transaction that ends the contract, through the same path as the member's own cancel.

describe('auto-renewal in the support console', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
  const auth = () => ({ Authorization: `Bearer ${t.adminToken('admin-1')}` });
  const member = (user: string) => t.http.get(`/api/v1/admin/members/${user}`).set(auth());
  const cancel = (user: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.http
      .post(`/api/v1/admin/members/${user}/auto-renew/cancel`)
      .set({ ...auth(), ...headers })
      .send(body);
  const row = async (contractNo: string) => (await t.db.query('SELECT * FROM contracts WHERE contract_no = $1', [contractNo])).rows[0];
  const audit = async (user: string) =>
    (await t.db.query(`SELECT * FROM admin_audit_log WHERE target_type = 'member' AND target = $1 ORDER BY id`, [user])).rows;

  /** A member's signed WeChat Pay contract, as the sandbox signs it and its callback activates it. */
  async function activeContract(user: string) {
    const subs = t.app.get(SubscriptionsService);
    const wx = t.app.get(AgreementRegistry).find('wechat') as AgreementProvider;
    const contract = await subs.openPending(user, 'wechat', { id: 1, code: 'basic_monthly' }, 1990);
    const signing = await wx.sign({
      contractNo: contract.contract_no,
      paymentNo: newPaymentNo(new Date()),
      planCode: 'basic_monthly',
      amountFen: 1990,
      description: '会员月卡（自动续费）',
      displayAccount: 'member',
      periodDays: 30,
      firstDeductionDate: '2026-12-06',
      clientIp: '127.0.0.1',
    });
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url });
    const deadline = Date.now() + 30_000;
    while ((await row(contract.contract_no)).status !== 'active') {
      if (Date.now() > deadline) throw new Error('the contract was never activated');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { contractNo: contract.contract_no, contractId: signed.body.contract_id as string };
  }

  it("shows the member's contract and cancels it with a reason: at the provider, ended by support, in the audit log once", async () => {
    const { contractNo, contractId } = await activeContract('renew-1');
    const before = (await member('renew-1').expect(200)).body;
    expect(before.auto_renewal).toEqual({
      contract_no: contractNo,
      status: 'active',
      provider: 'wechat',
      plan_id: 1,
      plan_code: 'basic_monthly',
      plan_name: expect.any(String),
      plan_name_zh: expect.any(String),
      amount: 1990,
      provider_contract_id: contractId,
      signed_at: expect.any(String),
      ended_at: null,
      ended_by: null,
    });

    // No reason, a blank one, a member's token, nobody: refused, nothing changes, nothing is logged.
    const missing = (await cancel('renew-1', {}).expect(400)).body;
    expect(missing).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', requestId: expect.any(String) });
    expect(missing.message.join(' ')).toMatch(/reason/);
    await cancel('renew-1', { reason: '   ' }).expect(400);
    await cancel('renew-1', { reason: 'x'.repeat(257) }).expect(400);
    await t.http
      .post('/api/v1/admin/members/renew-1/auto-renew/cancel')
      .set('Authorization', `Bearer ${t.token('renew-1')}`)
      .send({ reason: 'self-service' })
      .expect(403);
    await t.http.post('/api/v1/admin/members/renew-1/auto-renew/cancel').send({ reason: 'x' }).expect(401);
    await cancel('nobody-renews', { reason: 'x' }).expect(404);
    await cancel(encodeURIComponent('bad id!'), { reason: 'x' }).expect(400);

    // The provider cannot be reached: nothing changed here, nothing logged.
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'terminate', mode: 'error-500', times: 1 });
    expect((await cancel('renew-1', { reason: '会员来电要求取消' }).expect(502)).body).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect((await row(contractNo)).status).toBe('active');
    expect(await audit('renew-1')).toEqual([]);

    const ended = (await cancel('renew-1', { reason: '会员来电要求取消' }, { 'X-Request-Id': 'req-renew-1' }).expect(200)).body;
    expect(ended).toMatchObject({ contract_no: contractNo, status: 'cancelled', ended_by: 'support', ended_at: expect.any(String) });
    expect(await row(contractNo)).toMatchObject({ status: 'cancelled', ended_by: 'support' });
    expect((await sandboxCall(sb, 'GET', `/sandbox/contracts/${contractId}`)).body).toMatchObject({ state: 'terminated' });
    const entries = await audit('renew-1');
    expect(entries).toEqual([
      expect.objectContaining({
        actor: 'admin-1',
        action: 'auto_renewal.cancelled',
        target_type: 'member',
        target: 'renew-1',
        reason: '会员来电要求取消',
        client_address: expect.stringMatching(/127\.0\.0\.1/),
        request_id: 'req-renew-1',
        detail: { contract_no: contractNo, provider: 'wechat', provider_contract_id: contractId, status_before: 'active', amount: 1990 },
      }),
    ]);

    // Again: answered as it is, nothing more recorded. The member's own cancel answers the same contract.
    expect((await cancel('renew-1', { reason: 'again' }).expect(200)).body).toEqual(ended);
    expect(await audit('renew-1')).toHaveLength(1);
    await t.http
      .post('/api/v1/membership/auto-renew/cancel')
      .set('Authorization', `Bearer ${t.token('renew-1')}`)
      .expect(200);
    expect(await row(contractNo)).toMatchObject({ status: 'cancelled', ended_by: 'support' });

    const after = (await member('renew-1').expect(200)).body.auto_renewal;
    expect(after).toMatchObject({ contract_no: contractNo, status: 'cancelled', ended_by: 'support', ended_at: ended.ended_at });
    const log = (await t.http.get('/api/v1/admin/audit-log?action=auto_renewal.cancelled').set(auth()).expect(200)).body.data;
    expect(log).toEqual([expect.objectContaining({ target: 'renew-1', reason: '会员来电要求取消', actor: 'admin-1' })]);
  });

  it('ends the contract and writes its audit entry in one transaction: when the entry cannot be written, the contract stays open', async () => {
    // A contract never signed: no provider call, so only our transaction decides.
    const pending = await t.app.get(SubscriptionsService).openPending('renew-2', 'alipay', { id: 1, code: 'basic_monthly' }, 1990);
    await t.db.query(`CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit entries refused by the test'; END $$`);
    await t.db.query(`CREATE TRIGGER test_refuse_audit BEFORE INSERT ON admin_audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()`);
    try {
      await cancel('renew-2', { reason: 'cannot be logged' }).expect(500);
      expect((await row(pending.contract_no)).status).toBe('pending');
    } finally {
      await t.db.query('DROP TRIGGER test_refuse_audit ON admin_audit_log');
      await t.db.query('DROP FUNCTION test_refuse_audit()');
    }
    expect((await cancel('renew-2', { reason: 'logged now' }).expect(200)).body).toMatchObject({
      status: 'cancelled',
      ended_by: 'support',
    });
    expect((await audit('renew-2')).map((e) => e.reason)).toEqual(['logged now']);
    // A member with a contract and nothing else is still a member to look at.
    expect((await member('renew-2').expect(200)).body).toMatchObject({ level: 0, orders: [], auto_renewal: { status: 'cancelled' } });
  });

  it('shows no contract for a member who never had one', async () => {
    await t.http
      .post('/api/v1/payment/create-order')
      .set('Authorization', `Bearer ${t.token('renew-3')}`)
      .send({
        product_type: 'membership',
        product_id: 1,
        payment_method: 'wechat',
      });
    expect((await member('renew-3').expect(200)).body.auto_renewal).toBeNull();
    await cancel('renew-3', { reason: 'x' }).expect(404);
  });
});
