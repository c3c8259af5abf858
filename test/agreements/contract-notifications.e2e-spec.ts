// Contract notifications end to end: the service with the sandbox, a pending contract of the subscriptions
// module, signed and ended at the provider; the sandbox calls the service's contract routes (WeChat Pay
// contract-callback in v2 XML, Alipay's shared callback told apart by notify_type) and the row moves once.
import { Hash, Transformer } from 'wechatpay-axios-plugin';
import { newPaymentNo } from '../../src/common/trade-numbers';
import { AgreementRegistry } from '../../src/payments/agreement-registry';
import type { AgreementProvider } from '../../src/payments/agreements';
import { SubscriptionsService } from '../../src/subscriptions/subscriptions.service';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

describe('contract notifications reach the subscriptions module', () => {
  let subs: SubscriptionsService;
  let registry: AgreementRegistry;
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
  beforeAll(() => {
    subs = t.app.get(SubscriptionsService);
    registry = t.app.get(AgreementRegistry);
  });

  const row = async (contractNo: string) => (await t.db.query('SELECT * FROM contracts WHERE contract_no = $1', [contractNo])).rows[0];
  /** Waits for the row to reach a status (the sandbox's callback is in flight). */
  async function statusOf(contractNo: string, status: string) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await row(contractNo);
      if (r?.status === status) return r;
      if (Date.now() > deadline) throw new Error(`contract ${contractNo} is ${r?.status}, never ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const signRequest = (contractNo: string) => ({
    contractNo,
    paymentNo: newPaymentNo(new Date()),
    planCode: 'basic_monthly',
    amountFen: 1990,
    description: '会员月卡（自动续费）',
    displayAccount: 'member',
    periodDays: 30,
    firstDeductionDate: '2026-12-06',
    clientIp: '127.0.0.1',
  });
  const postXml = (path: string, fields: Record<string, string>) =>
    fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: Transformer.toXml(fields) });

  it('WeChat Pay: signed at the contract callback (once), ended by the member; forged callbacks change nothing', async () => {
    const wx = registry.find('wechat') as AgreementProvider;
    const contract = await subs.openPending('member-w1', 'wechat', { id: 1, code: 'basic_monthly' }, 1990);
    expect(contract.status).toBe('pending');
    await expect(subs.openPending('member-w1', 'alipay', { id: 1, code: 'basic_monthly' }, 1990)).rejects.toMatchObject({
      code: 'AUTO_RENEW_ACTIVE',
    });

    const signing = await wx.sign(signRequest(contract.contract_no));
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url });
    const active = await statusOf(contract.contract_no, 'active');
    expect(active.provider_contract_id).toBe(signed.body.contract_id);

    // A replayed ADD, correctly signed: acknowledged, nothing moves.
    const w = sb.credentials.wechat;
    const add = {
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      mch_id: w.mchId,
      contract_code: contract.contract_no,
      plan_id: w.papayPlans.wechat.basic_monthly,
      openid: 'o1',
      change_type: 'ADD',
      operate_time: '2026-12-06 10:00:00',
      contract_id: signed.body.contract_id,
    };
    const replay = await postXml('/api/v1/payment/wechat/contract-callback', { ...add, sign: Hash.sign('MD5', add, w.apiV2Key) });
    expect(replay.status).toBe(200);
    expect(await replay.text()).toContain('SUCCESS');
    expect((await row(contract.contract_no)).updated_at).toEqual(active.updated_at);

    // A DELETE with a wrong signature: refused in v2 XML, the contract stays active.
    const del = { ...add, change_type: 'DELETE', contract_termination_mode: '2' };
    const forged = await postXml('/api/v1/payment/wechat/contract-callback', { ...del, sign: Hash.sign('MD5', del, 'x'.repeat(32)) });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('FAIL');
    expect((await row(contract.contract_no)).status).toBe('active');

    // A contract that is not ours: refused.
    const stranger = { ...add, contract_code: 'AR000NOTOURS', contract_id: '1' };
    expect(
      (await postXml('/api/v1/payment/wechat/contract-callback', { ...stranger, sign: Hash.sign('MD5', stranger, w.apiV2Key) })).status,
    ).toBe(400);

    await sandboxCall(sb, 'POST', '/sandbox/contracts/unsign', { contract_id: signed.body.contract_id });
    const ended = await statusOf(contract.contract_no, 'cancelled');
    expect(ended.ended_by).toBe('member');
    // The member may sign again once the contract is over.
    expect((await subs.openPending('member-w1', 'wechat', { id: 1, code: 'basic_monthly' }, 1990)).status).toBe('pending');
  });

  it('Alipay: dut_user_sign at the shared callback activates, dut_user_unsign cancels; a tampered one changes nothing', async () => {
    const ali = registry.find('alipay') as AgreementProvider;
    const contract = await subs.openPending('member-a1', 'alipay', { id: 1, code: 'basic_monthly' }, 1990);
    const tampered = await ali.sign(signRequest(contract.contract_no));
    await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: tampered.url, tamper: 'signature' });
    // The forged notification was answered 400 and changed nothing; the member's genuine signing follows.
    const view = await sandboxCall(sb, 'GET', `/sandbox/contracts/${contract.contract_no}`);
    expect(view.body.notifications[0].attempts[0].status).toBe(400);
    expect((await row(contract.contract_no)).status).toBe('pending');

    const again = await subs.openPending('member-a2', 'alipay', { id: 1, code: 'basic_monthly' }, 1990);
    const signing = await ali.sign(signRequest(again.contract_no));
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url });
    expect((await statusOf(again.contract_no, 'active')).provider_contract_id).toBe(signed.body.agreement_no);
    expect(await ali.terminate({ contractId: signed.body.agreement_no, contractNo: again.contract_no }, '取消自动续费')).toBe('terminated');
    await statusOf(again.contract_no, 'cancelled');
  });

  it('the member cancels from the app: terminated at the provider, recorded once, idempotent; a provider failure changes nothing', async () => {
    const wx = registry.find('wechat') as AgreementProvider;
    const auth = { Authorization: `Bearer ${t.token('member-w9')}` };
    await t.http.post('/api/v1/membership/auto-renew/cancel').set(auth).expect(404);
    const contract = await subs.openPending('member-w9', 'wechat', { id: 1, code: 'basic_monthly' }, 1990);
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: (await wx.sign(signRequest(contract.contract_no))).url });
    await statusOf(contract.contract_no, 'active');

    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'terminate', mode: 'error-500', times: 1 });
    const failed = await t.http.post('/api/v1/membership/auto-renew/cancel').set(auth).expect(502);
    expect(failed.body).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', requestId: expect.any(String) });
    expect((await row(contract.contract_no)).status).toBe('active');

    const cancelled = await t.http.post('/api/v1/membership/auto-renew/cancel').set(auth).expect(200);
    expect(cancelled.body).toMatchObject({ contract_no: contract.contract_no, status: 'cancelled', provider: 'wechat', amount: 1990 });
    const atProvider = await sandboxCall(sb, 'GET', `/sandbox/contracts/${signed.body.contract_id}`);
    expect(atProvider.body).toMatchObject({ state: 'terminated', termination_mode: 3 });
    // The provider's DELETE callback follows: acknowledged, nothing moves (ended by the member, from the app).
    // ADD, then DELETE: wait until the second is acknowledged.
    const deleteAcknowledged = async () => {
      const sent = (await sandboxCall(sb, 'GET', `/sandbox/contracts/${signed.body.contract_id}`)).body.notifications as {
        delivered: boolean;
      }[];
      return sent.length === 2 && sent[1].delivered;
    };
    const deadline = Date.now() + 15_000;
    while (!(await deleteAcknowledged())) {
      if (Date.now() > deadline) throw new Error('the DELETE callback was never acknowledged');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await row(contract.contract_no)).toMatchObject({ status: 'cancelled', ended_by: 'member' });
    const again = await t.http.post('/api/v1/membership/auto-renew/cancel').set(auth).expect(200);
    expect(again.body).toEqual(cancelled.body);
  });
});
