import type { Page } from 'playwright-core';
import { membershipOf } from '../support/orders';
import { useApp } from '../support/lifecycle';
import { describeInBrowser, screenshot, launchBrowser, type Browser } from '../support/browser';
import { papayPlansWithoutYearly } from '../support/contracts';
import { providerEnv, sandboxCall } from '../support/sandbox';

// Auto-renewal on the checkout page in a real chromium: the checkbox is offered only where the plan
// can renew with the chosen method, is never ticked in advance, and states the price, the cycle, the
// first renewal's day and how to cancel (in Chinese and English); buying with it opens the sandbox's
// signing page, where WeChat Pay's one button pays the first period and signs; the member view then
// shows the contract, and its button cancels it. Screenshots land in test-artifacts/checkout/.

const SECOND = 1000;

describeInBrowser('auto-renewal on the checkout page', () => {
  let browser: Browser;
  let page: Page;

  const shot = (name: string) => screenshot(page, name);
  const me = () => membershipOf(t, 'demo');
  const visible = (name: string | RegExp, timeout = 15 * SECOND) =>
    page.getByRole('heading', { name }).waitFor({ state: 'visible', timeout });
  const checkbox = () => page.locator('#auto-renew-input');

  // Declared before useApp: the browser closes before the service (hooks run in declaration order).
  beforeAll(async () => {
    browser = await launchBrowser({ locale: 'zh-CN' });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });
  afterAll(async () => {
    await browser?.close();
  });
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), WECHAT_PAY_PAPAY_PLAN_IDS: papayPlansWithoutYearly(sb) }), {
    sandbox: true,
  });

  it('offers auto-renewal unticked, with its price, cycle, first renewal day and how to cancel (中文), only where it can sign', async () => {
    await page.goto(`${t.url}/`);
    await visible('选择会员方案');
    await page.getByRole('radio', { name: /基础会员 · 月度/ }).check();
    await page.getByRole('radio', { name: /微信支付/ }).check();
    await checkbox().waitFor();
    expect(await checkbox().isChecked()).toBe(false);
    const terms = await page.locator('#auto-renew').innerText();
    // The first renewal: 30 days from now, as the page shows dates in Chinese.
    const firstRenewal = new Intl.DateTimeFormat('zh-CN', { dateStyle: 'medium' }).format(new Date(Date.now() + 30 * 86_400_000));
    expect(terms).toContain('每 30 天通过微信支付自动扣款 ¥19.90');
    expect(terms).toContain(`首次续费扣款日为 ${firstRenewal}`);
    expect(terms).toContain('可随时在本页“我的会员”中取消');
    expect(await page.getByRole('button', { name: /^用微信支付付款 ¥19\.90$/ }).count()).toBe(1);
    await shot('desktop-zh-auto-renew-offer');

    // basic_yearly has no WeChat Pay template here: no checkbox with WeChat Pay, one with Alipay.
    await page.getByRole('radio', { name: /基础会员 · 年度/ }).check();
    await page.locator('#auto-renew').waitFor({ state: 'hidden' });
    await page.getByRole('radio', { name: /支付宝/ }).check();
    await checkbox().waitFor();
    expect(await checkbox().isChecked()).toBe(false);
    expect(await page.locator('#auto-renew-terms').innerText()).toContain('每 365 天通过支付宝自动扣款 ¥199.00');
  });

  it('buys with auto-renewal on WeChat Pay: pays and signs on the sandbox page, then shows the contract (English)', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await visible('Choose your membership');
    await page.getByRole('radio', { name: /Basic, monthly/ }).check();
    await page.getByRole('radio', { name: /WeChat Pay/ }).check();
    const terms = await page.locator('#auto-renew').innerText();
    expect(terms).toContain('¥19.90 every 30 days, charged with WeChat Pay');
    expect(terms).toContain('Cancel any time under "Your membership" on this page');
    await page.getByRole('checkbox', { name: 'Renew automatically' }).check();
    // Choosing again unticks it: consent is to the terms shown.
    await page.getByRole('radio', { name: /Basic, quarterly/ }).check();
    await page.getByRole('radio', { name: /Basic, monthly/ }).check();
    expect(await checkbox().isChecked()).toBe(false);
    await page.getByRole('checkbox', { name: 'Renew automatically' }).check();
    await shot('desktop-en-auto-renew-ticked');
    await page.getByRole('button', { name: 'Pay ¥19.90 with WeChat Pay and renew automatically' }).click();
    await visible('Scan to pay and sign');
    await shot('desktop-en-auto-renew-qr');

    const [tab] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('link', { name: 'Pay and sign on the sandbox page' }).click(),
    ]);
    await tab.getByRole('button', { name: /Sign and pay ¥19\.90/ }).click();
    await tab.getByText('Paid and signed').waitFor();
    await tab.close();

    await visible('Payment received');
    await page
      .locator('#auto-renew-state')
      .getByText('On: ¥19.90 every 30 days with WeChat Pay.')
      .waitFor({ timeout: 20 * SECOND });
    const membership = await me();
    expect(membership.auto_renew).toMatchObject({ status: 'active', provider: 'wechat', plan_code: 'basic_monthly', amount: 1990 });
    await page.locator(`#auto-renew-next[datetime="${membership.auto_renew.next_renewal_at}"]`).waitFor();
    expect(membership.auto_renew.next_renewal_at).toBe(membership.expires_at);
    await shot('desktop-en-auto-renew-active');

    // While it is open, the checkbox gives way to a note: one contract per member.
    await page.getByRole('button', { name: 'Done' }).click();
    await page.locator('#auto-renew-open').waitFor();
    expect(await checkbox().count()).toBe(0);
  });

  it('cancels auto-renewal with one press: terminated at WeChat Pay, the paid days stay', async () => {
    const before = await me();
    await page.getByRole('button', { name: 'Cancel auto-renewal' }).click();
    await page.locator('#auto-renew-state').getByText('Cancelled. Nothing more will be charged').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel auto-renewal' }).count()).toBe(0);
    const after = await me();
    expect(after.auto_renew).toMatchObject({ status: 'cancelled', next_renewal_at: null, cancelled_at: expect.any(String) });
    expect(after.expires_at).toBe(before.expires_at);
    const contractId = (await t.db.query("SELECT provider_contract_id FROM contracts WHERE user_id = 'demo'")).rows[0].provider_contract_id;
    expect((await sandboxCall(sb, 'GET', `/sandbox/contracts/${contractId}`)).body.state).toBe('terminated');
    // The member may sign again.
    await checkbox().waitFor();
    expect(await checkbox().isChecked()).toBe(false);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('phone-en-auto-renew-cancelled');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('buys a renewal with auto-renewal on Alipay: signs on the sandbox page, the first period is charged at once', async () => {
    await page.getByRole('radio', { name: /Basic, monthly/ }).check();
    await page.getByRole('radio', { name: /Alipay/ }).check();
    expect(await page.locator('#auto-renew').innerText()).toContain('¥19.90 every 30 days, charged with Alipay');
    await page.getByRole('checkbox', { name: 'Renew automatically' }).check();
    await page.getByRole('button', { name: 'Pay ¥19.90 with Alipay and renew automatically' }).click();
    await visible('Scan to sign');
    const [tab] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('link', { name: 'Sign on the sandbox page' }).click(),
    ]);
    await tab.getByRole('button', { name: /Agree and sign/ }).click();
    await tab.getByText('Signed (签约成功).').waitFor();
    await tab.close();
    await visible('Payment received');
    await page
      .locator('#auto-renew-state')
      .getByText('On: ¥19.90 every 30 days with Alipay.')
      .waitFor({ timeout: 20 * SECOND });
    const membership = await me();
    expect(membership.periods).toHaveLength(2);
    expect(membership.auto_renew).toMatchObject({ status: 'active', provider: 'alipay', next_renewal_at: membership.expires_at });
    await shot('desktop-en-auto-renew-alipay');

    // An upgrade ends this contract: said before paying; only WeChat Pay can sign the new level with it.
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('radio', { name: /Upgrade to Premium/ }).check();
    await page.locator('#auto-renew-ends').getByText('Upgrading ends your current auto-renewal').waitFor();
    expect(await checkbox().count()).toBe(0);
    await page.getByRole('radio', { name: /WeChat Pay/ }).check();
    await checkbox().waitFor();
    expect(await checkbox().isChecked()).toBe(false);
    await page.locator('#auto-renew-ends').waitFor();
    await shot('desktop-en-auto-renew-upgrade');
  });
});
