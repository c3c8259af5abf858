// Buying with auto-renewal, end to end through the sandbox: GET /plans says which plans renew,
// create-order with auto_renew opens a pending contract linked to the order, the member pays and signs
// on the sandbox's signing page (WeChat Pay pay-and-sign: the payment settles through the one settle
// path, the ADD callback activates the contract), /me and the entitlements show the contract, a second
// auto-renewal is a 409, a plan or channel that cannot sign a 400 that changes nothing, an order that
// ends unpaid releases its contract, and an upgrade ends the contract of the lower level.
import { RenewalJob } from '../../src/subscriptions/renewal.job';
import { useApp } from '../support/lifecycle';
import { papayPlansWithoutYearly } from '../support/contracts';
import { providerEnv, sandboxCall } from '../support/sandbox';

const SECOND = 1000;

describe('create-order with auto_renew', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), WECHAT_PAY_PAPAY_PLAN_IDS: papayPlansWithoutYearly(sb) }), {
    sandbox: true,
  });

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const create = (user: string, body: Record<string, unknown>) =>
    t.http
      .post('/api/v1/payment/create-order')
      .set(auth(user))
      .send({ product_type: 'membership', product_id: 1, payment_method: 'wechat', auto_renew: true, ...body });
  const me = async (user: string) => (await t.http.get('/api/v1/membership/me').set(auth(user)).expect(200)).body;
  const contractOf = async (orderNo: string) =>
    (await t.db.query(`SELECT c.* FROM contracts c JOIN orders o ON o.id = c.first_order_id WHERE o.order_no = $1`, [orderNo])).rows[0];
  const rowsOf = async (user: string) => ({
    orders: Number((await t.db.query('SELECT count(*) FROM orders WHERE user_id = $1', [user])).rows[0].count),
    contracts: Number((await t.db.query('SELECT count(*) FROM contracts WHERE user_id = $1', [user])).rows[0].count),
  });

  /** Polls until `check` answers something truthy (a callback is in flight). */
  async function until<T>(what: string, check: () => Promise<T | undefined | null | false>, limitMs = 20 * SECOND): Promise<T> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const got = await check();
      if (got) return got;
      if (Date.now() > deadline) throw new Error(`never: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  const orderStatus = async (user: string, orderNo: string) =>
    (await t.http.get(`/api/v1/payment/orders/${orderNo}`).set(auth(user)).expect(200)).body.status as string;
  const contractStatus = (orderNo: string, status: string) =>
    until(`the contract of ${orderNo} ${status}`, async () => {
      const c = await contractOf(orderNo);
      return c?.status === status ? c : null;
    });

  /** Creates an auto-renewal order on WeChat Pay, pays and signs it on the sandbox, and waits for both results. */
  async function buyWithWechat(user: string, body: Record<string, unknown> = {}) {
    const order = (await create(user, body).expect(201)).body;
    expect(order).toMatchObject({ auto_renew: true, status: 'pending', qr_code_url: expect.stringMatching(/^weixin:\/\//) });
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url });
    expect(signed.status).toBe(200);
    expect(signed.body).toMatchObject({ payment_callback_delivered: true, contract_callback_delivered: true });
    const contract = await contractStatus(order.order_no, 'active');
    expect(contract.provider_contract_id).toBe(signed.body.contract_id);
    await until('the order paid', async () => (await orderStatus(user, order.order_no)) === 'paid');
    return { order, contract, contractId: signed.body.contract_id as string };
  }

  it('GET /plans says which plans renew, with which methods and at what price', async () => {
    const plans = (await t.http.get('/api/v1/membership/plans').expect(200)).body as {
      code: string;
      price: number;
      auto_renew: boolean;
      auto_renew_methods: string[];
      renewal_amount: number | null;
    }[];
    const byCode = Object.fromEntries(plans.map((p) => [p.code, p]));
    expect(byCode.basic_monthly).toMatchObject({
      auto_renew: true,
      auto_renew_methods: ['wechat', 'alipay'],
      // Alipay signs before anything is paid: an upgrade's first payment (a difference) cannot sign there.
      auto_renew_upgrade_methods: ['wechat'],
      renewal_amount: 1990,
    });
    // No WeChat Pay template for basic_yearly here: only Alipay can sign it.
    expect(byCode.basic_yearly).toMatchObject({ auto_renew: true, auto_renew_methods: ['alipay'], renewal_amount: 19900 });
  });

  it('WeChat Pay: pay and sign from the QR code → the order paid once, one period, the contract active; /me and entitlements show it', async () => {
    const before = await me('w-buyer');
    expect(before.auto_renew).toBeNull();
    const order = (await create('w-buyer', {}).expect(201)).body;
    // Its one code lives as long as the order (no second code may sign the contract again).
    expect(order.qr_code_expire_at).toBe(order.expire_at);
    const pending = await contractOf(order.order_no);
    expect(pending).toMatchObject({ status: 'pending', provider: 'wechat', amount: 1990, user_id: 'w-buyer', provider_contract_id: null });
    expect((await me('w-buyer')).auto_renew).toMatchObject({ status: 'pending', provider: 'wechat', next_renewal_at: null });

    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url });
    expect(signed.status).toBe(200);
    const active = await contractStatus(order.order_no, 'active');
    await until('the order paid', async () => (await orderStatus('w-buyer', order.order_no)) === 'paid');

    // The payment's result again, ten times at once: settled once, one period.
    const resent = await sandboxCall(sb, 'POST', '/sandbox/contracts/resend', {
      out_trade_no: signed.body.out_trade_no,
      copies: 10,
      concurrent: true,
    });
    expect(resent.body.delivered).toBe(true);
    const membership = await me('w-buyer');
    expect(membership.periods).toHaveLength(1);
    expect(membership.periods[0]).toMatchObject({ plan_code: 'basic_monthly', order_no: order.order_no });
    expect(membership.auto_renew).toEqual({
      status: 'active',
      provider: 'wechat',
      plan_code: 'basic_monthly',
      amount: 1990,
      next_renewal_at: membership.expires_at,
      signed_at: new Date(active.signed_at).toISOString(),
      cancelled_at: null,
      grace_ends_at: null,
    });
    const paid = (
      await t.db.query(
        `SELECT count(*) FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1 AND r.status = 'success'`,
        [order.order_no],
      )
    ).rows[0];
    expect(Number(paid.count)).toBe(1);

    const entitlement = (
      await t.http
        .get('/api/v1/entitlements/w-buyer')
        .set('Authorization', `Bearer ${t.serviceToken('crm')}`)
        .expect(200)
    ).body;
    expect(entitlement).toMatchObject({ active: true, auto_renew: true, in_grace: false, grace_ends_at: null });
    // Support's story of the order names the contract it signed.
    const story = (
      await t.http
        .get(`/api/v1/admin/orders/${order.order_no}/timeline`)
        .set('Authorization', `Bearer ${t.adminToken('agent-1')}`)
        .expect(200)
    ).body;
    const created = story.timeline.find((e: { kind: string }) => e.kind === 'order.created');
    expect(created.detail).toMatchObject({
      auto_renew: true,
      source: 'member',
      contract: { contract_no: active.contract_no, status: 'active', renewal_cycle: null },
    });
  });

  it('WeChat Pay: members checking out with auto-renewal at the same moment all get their pay-and-sign code', async () => {
    // WeChat Pay refuses a request_serial not above the last one it saw from the merchant: the serial is
    // taken as the request goes out, so checkouts racing each other do not refuse one another.
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create(`serial-${i}`, {})));
    expect(answers.map((a) => [a.status, a.body.code])).toEqual(answers.map(() => [201, undefined]));
    for (const a of answers) expect(a.body.qr_code_url).toMatch(/^weixin:\/\//);
  });

  it('a second auto-renewal while one is open: 409 AUTO_RENEW_ACTIVE, nothing created', async () => {
    const before = await rowsOf('w-buyer');
    const refused = await create('w-buyer', {}).expect(409);
    expect(refused.body).toMatchObject({ code: 'AUTO_RENEW_ACTIVE', requestId: expect.any(String) });
    // With the other provider too: one contract per member.
    expect((await create('w-buyer', { payment_method: 'alipay' }).expect(409)).body.code).toBe('AUTO_RENEW_ACTIVE');
    expect(await rowsOf('w-buyer')).toEqual(before);
    // A renewal without auto-renewal is still for sale.
    await create('w-buyer', { auto_renew: false }).expect(201);
  });

  it('a plan or a channel that cannot sign: 400 VALIDATION_FAILED naming auto_renew, nothing created', async () => {
    const yearly = await create('w-refused', { product_id: 3 }).expect(400);
    expect(yearly.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect([yearly.body.message].flat().join(' ')).toMatch(/auto_renew: the plan basic_yearly cannot be renewed automatically with wechat/);
    const jsapi = await create('w-refused', { channel: 'jsapi', openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }).expect(400);
    expect([jsapi.body.message].flat().join(' ')).toMatch(/auto_renew: .*qr or h5 channel, not jsapi/);
    await create('w-refused', { auto_renew: 'yes' }).expect(400);
    expect(await rowsOf('w-refused')).toEqual({ orders: 0, contracts: 0 });
  });

  it('a new auto-renewal order supersedes one left unpaid: the old one is cancelled and its contract released', async () => {
    const first = (await create('w-again', {}).expect(201)).body;
    const second = (await create('w-again', { payment_method: 'alipay' }).expect(201)).body;
    expect(await orderStatus('w-again', first.order_no)).toBe('closed');
    expect(await contractOf(first.order_no)).toMatchObject({ status: 'cancelled', ended_by: 'merchant' });
    expect(await contractOf(second.order_no)).toMatchObject({ status: 'pending', provider: 'alipay' });
    // The old code can no longer be paid and signed.
    expect((await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: first.qr_code_url })).status).toBe(409);
  });

  it('an order cancelled unpaid releases its contract: the member may sign again; a new QR code for it is refused', async () => {
    const order = (await create('w-cancel', {}).expect(201)).body;
    const refresh = await t.http.post(`/api/v1/payment/orders/${order.order_no}/refresh`).set(auth('w-cancel')).expect(409);
    expect(refresh.body.code).toBe('ORDER_NOT_PAYABLE');
    await t.http.post(`/api/v1/payment/orders/${order.order_no}/cancel`).set(auth('w-cancel')).expect(200);
    expect(await contractOf(order.order_no)).toMatchObject({ status: 'cancelled', ended_by: 'merchant', provider_contract_id: null });
    // A contract released unsigned is not shown.
    expect((await me('w-cancel')).auto_renew).toBeNull();
    await buyWithWechat('w-cancel');
  });

  it('WeChat Pay failing the pay-and-sign order: 502, the order failed and its contract released (the member may try again)', async () => {
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'contractorder', mode: 'error-500', times: 1 });
    try {
      const failed = await create('w-fail', {}).expect(502);
      expect(failed.body).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', requestId: expect.any(String) });
    } finally {
      await sandboxCall(sb, 'DELETE', '/sandbox/faults');
    }
    const { rows } = await t.db.query(
      `SELECT o.status AS order_status, c.status AS contract_status, c.ended_by FROM orders o JOIN contracts c ON c.first_order_id = o.id
        WHERE o.user_id = 'w-fail'`,
    );
    expect(rows).toEqual([{ order_status: 'failed', contract_status: 'cancelled', ended_by: 'merchant' }]);
    await buyWithWechat('w-fail');
  });

  it('a paid upgrade ends the contract of the lower level at WeChat Pay; an upgrade with auto_renew signs a new one', async () => {
    const basic = await buyWithWechat('w-up');
    const upgrade = (await create('w-up', { product_id: 4, is_upgrade: true, auto_renew: false }).expect(201)).body;
    const paid = await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: upgrade.qr_code_url });
    expect(paid.status).toBe(200);
    const ended = await contractStatus(basic.order.order_no, 'cancelled');
    expect(ended.ended_by).toBe('merchant');
    const atWechat = await sandboxCall(sb, 'GET', `/sandbox/contracts/${basic.contractId}`);
    expect(atWechat.body).toMatchObject({ state: 'terminated', termination_mode: 3 });
    expect((await me('w-up')).auto_renew).toMatchObject({ status: 'cancelled', plan_code: 'basic_monthly', next_renewal_at: null });

    // Back to basic with auto-renewal, then an upgrade that signs for premium: the basic contract ends at once.
    const member2 = 'w-up2';
    const first = await buyWithWechat(member2);
    const signing = await buyWithWechat(member2, { product_id: 4, is_upgrade: true });
    expect(await contractOf(first.order.order_no)).toMatchObject({ status: 'cancelled', ended_by: 'merchant' });
    expect((await sandboxCall(sb, 'GET', `/sandbox/contracts/${first.contractId}`)).body.state).toBe('terminated');
    const renewsPremium = await me(member2);
    expect(renewsPremium.level).toBe(2);
    expect(renewsPremium.auto_renew).toMatchObject({ status: 'active', plan_code: 'premium_monthly', amount: 3990 });
    expect(signing.contract.amount).toBe(3990);
    // The upgrade charged its difference only; renewals charge the plan's price.
    expect(signing.order.amount).toBeLessThan(3990);
  });

  it('Alipay: sign on the agreement page, then the first period is deducted at once → the order paid once, the contract active', async () => {
    const order = (await create('a-buyer', { payment_method: 'alipay' }).expect(201)).body;
    expect(order).toMatchObject({ auto_renew: true, payment_method: 'alipay', qr_code_url: expect.stringContaining('/gateway.do?') });
    expect(order.qr_code_url).toContain('alipay.user.agreement.page.sign');
    expect(order.qr_code_expire_at).toBe(order.expire_at);
    const pending = await contractOf(order.order_no);
    expect(pending).toMatchObject({ status: 'pending', provider: 'alipay', amount: 1990 });

    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url });
    expect(signed.status).toBe(200);
    expect(signed.body.delivered).toBe(true);
    const active = await contractStatus(order.order_no, 'active');
    expect(active.provider_contract_id).toBe(signed.body.agreement_no);
    await until('the order paid', async () => (await orderStatus('a-buyer', order.order_no)) === 'paid');

    // The signing's notification again: acknowledged, no second deduction.
    const atAlipay = await sandboxCall(sb, 'GET', `/sandbox/contracts/${signed.body.agreement_no}`);
    expect(atAlipay.body.deductions).toHaveLength(1);
    const paidAttempts = await t.db.query(
      `SELECT r.payment_no, r.amount FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1 AND r.status = 'success'`,
      [order.order_no],
    );
    expect(paidAttempts.rows).toEqual([{ payment_no: expect.any(String), amount: 1990 }]);
    const membership = await me('a-buyer');
    expect(membership.periods).toHaveLength(1);
    expect(membership.auto_renew).toMatchObject({
      status: 'active',
      provider: 'alipay',
      plan_code: 'basic_monthly',
      amount: 1990,
      next_renewal_at: membership.expires_at,
    });
    // Alipay signs first: an upgrade, whose first payment is only a difference, cannot sign there.
    const upgrade = await create('a-buyer', { payment_method: 'alipay', product_id: 4, is_upgrade: true }).expect(400);
    expect([upgrade.body.message].flat().join(' ')).toMatch(/with alipay, an upgrade cannot sign auto-renewal/);
  });

  it('Alipay: a first deduction declined ends the contract at Alipay and here; the order stays unpaid', async () => {
    const order = (await create('a-declined', { payment_method: 'alipay' }).expect(201)).body;
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'deduct', mode: 'declined', times: 1 });
    try {
      const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url });
      expect(signed.body.delivered).toBe(true);
      const ended = await contractStatus(order.order_no, 'cancelled');
      expect(ended).toMatchObject({ ended_by: 'merchant', provider_contract_id: signed.body.agreement_no });
      expect((await sandboxCall(sb, 'GET', `/sandbox/contracts/${signed.body.agreement_no}`)).body.status).not.toBe('NORMAL');
    } finally {
      await sandboxCall(sb, 'DELETE', '/sandbox/faults');
    }
    expect(await orderStatus('a-declined', order.order_no)).toBe('pending');
    expect((await me('a-declined')).periods).toHaveLength(0);
  });

  it('on the phone: WeChat Pay signs through MWEB (pay.h5_url), Alipay through ALIPAYAPP (pay.url)', async () => {
    const h5 = (await create('p-wechat', { channel: 'h5' }).expect(201)).body;
    expect(h5).toMatchObject({ auto_renew: true, channel: 'h5', qr_code_url: null });
    expect(h5.pay).toMatchObject({ channel: 'h5', h5_url: expect.stringContaining('mmpayweb') });
    const wap = (await create('p-alipay', { payment_method: 'alipay', channel: 'wap' }).expect(201)).body;
    expect(wap).toMatchObject({ auto_renew: true, channel: 'wap', qr_code_url: null });
    const bizContent = JSON.parse(new URL(wap.pay.url).searchParams.get('biz_content') ?? '{}');
    expect(bizContent).toMatchObject({
      access_params: { channel: 'ALIPAYAPP' },
      external_agreement_no: (await contractOf(wap.order_no)).contract_no,
    });
  });

  it.each(['wechat', 'alipay'] as const)(
    '%s: bought with auto-renewal on create-order, then renewed by the renewal job: /me shows the new period from T',
    async (provider) => {
      const user = `renew-${provider}`;
      const order = (await create(user, { payment_method: provider }).expect(201)).body;
      await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url });
      const contract = await contractStatus(order.order_no, 'active');
      await until('the first period paid', async () => (await orderStatus(user, order.order_no)) === 'paid');
      const first = await me(user);
      const T = first.expires_at as string;
      expect(first.auto_renew.next_renewal_at).toBe(T);
      // The job as of each moment the contract next has something to do, until the cycle is paid.
      for (let step = 0; step < 12; step++) {
        const row = (await t.db.query('SELECT cycles_renewed, next_run_at FROM contracts WHERE id = $1', [contract.id])).rows[0];
        if (row.cycles_renewed === 1) break;
        await t.app.get(RenewalJob).run(row.next_run_at ?? new Date());
        await until('no deduction in flight', async () => {
          const { rows } = await t.db.query(
            `SELECT count(*)::int AS n FROM payment_records WHERE contract_id IS NOT NULL AND status = 'pending' AND order_id IN
               (SELECT order_id FROM renewal_cycles WHERE contract_id = $1)`,
            [contract.id],
          );
          return rows[0].n === 0;
        });
      }
      const renewed = await me(user);
      expect(renewed.periods).toHaveLength(2);
      expect(renewed.periods[1]).toMatchObject({ plan_code: 'basic_monthly', starts_at: T });
      expect(renewed.auto_renew).toMatchObject({ status: 'active', provider, next_renewal_at: renewed.expires_at });
      expect(Date.parse(renewed.expires_at) - Date.parse(T)).toBe(30 * 86_400_000);
    },
  );
});
