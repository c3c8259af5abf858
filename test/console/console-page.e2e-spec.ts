import { withInvariants } from '../support/lifecycle';
import { parse } from 'csv-parse/sync';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { beijingDayOf } from '../../src/common/beijing-day';
import { newPaymentNo } from '../../src/common/trade-numbers';
import { AgreementRegistry } from '../../src/payments/agreement-registry';
import type { AgreementProvider } from '../../src/payments/agreements';
import { SubscriptionsService } from '../../src/subscriptions/subscriptions.service';
import { startTestApp, type TestApp } from '../support/app';
import { describeInBrowser, launchBrowser, type Browser } from '../support/browser';
import { createOrder, payAtSandbox, postNotification } from '../support/orders';
import { providerEnv, sandboxCall, startTestSandbox, type Sandbox } from '../support/sandbox';

// The support console at /admin/ in a real chromium: sign in as the demo admin, find a paid order
// by its WeChat Pay transaction_id, read its story, refund part of it and watch the state follow,
// reconcile the day and find the Alipay payment only the bill showed, export the day as CSV and
// read it back, and see every action in the audit log. Screenshots land in test-artifacts/admin/.

const SECOND = 1000;
const ARTIFACTS = resolve(__dirname, '../../test-artifacts/admin');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

describeInBrowser('support console in a browser', () => {
  let sb: Sandbox;
  let t: TestApp;
  withInvariants(() => t?.db);
  let browser: Browser;
  let page: Page;
  const today = beijingDayOf(new Date());
  let wechat: { orderNo: string; paymentNo: string; transactionId: string; amount: number };
  let alipay: { orderNo: string; paymentNo: string; amount: number };

  /** Desktop and phone screenshots of what the page shows now. */
  async function shots(name: string) {
    await page.screenshot({ path: join(ARTIFACTS, `desktop-${name}.png`), fullPage: true });
    await page.setViewportSize(PHONE);
    // Usable on a phone: nothing wider than the screen but the tables, which scroll in their own box.
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
      ),
    ).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: join(ARTIFACTS, `phone-${name}.png`), fullPage: true });
    await page.setViewportSize(DESKTOP);
  }
  const heading = (name: string | RegExp) => page.getByRole('heading', { name, level: 1 }).waitFor({ timeout: 15 * SECOND });
  const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
  const paymentOf = async (orderNo: string) =>
    (await t.db.query('SELECT payment_no, transaction_id FROM orders WHERE order_no = $1', [orderNo])).rows[0];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    sb = await startTestSandbox();
    t = await startTestApp((port) => providerEnv(sb, port));
    const w = await createOrder(t, 'console-w', { payment_method: 'wechat' });
    expect((await payAtSandbox(sb, w.qr_code_url)).body.delivered).toBe(true);
    const wRow = await paymentOf(w.order_no);
    wechat = { orderNo: w.order_no, paymentNo: wRow.payment_no, transactionId: wRow.transaction_id, amount: w.amount };
    // Paid at Alipay, but the notification never arrives: only the day's bill shows it.
    const a = await createOrder(t, 'console-a', { payment_method: 'alipay' });
    expect((await payAtSandbox(sb, a.qr_code_url, { delivery: 'drop' })).status).toBe(200);
    alipay = { orderNo: a.order_no, paymentNo: (await paymentOf(a.order_no)).payment_no, amount: a.amount };
    browser = await launchBrowser({ locale: 'zh-CN' });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.setViewportSize(DESKTOP);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sb?.close();
  });

  it('speaks Chinese by the browser language and refuses a member token pasted in', async () => {
    await page.goto(`${t.url}/admin/`);
    await heading('登录运营后台');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('#sandbox-banner').innerText()).toContain('沙箱');
    await shots('zh-sign-in');
    // Keyboard only: type the token, Tab to the button, press Enter.
    await page.getByLabel('管理员令牌').fill(t.token('console-w'));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: '不是管理员令牌' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
  });

  it('gives a member token nothing from any console route', async () => {
    const member = t.token('console-w');
    for (const path of [
      `/api/v1/admin/search?q=${wechat.transactionId}`,
      `/api/v1/admin/orders/${wechat.orderNo}/timeline`,
      '/api/v1/admin/members/console-w',
      '/api/v1/admin/audit-log',
      '/api/v1/admin/reconciliation/runs',
      `/api/v1/admin/reconciliation/export.csv?from=${today}`,
    ]) {
      const res = await t.http.get(path).set('Authorization', `Bearer ${member}`).expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    for (const path of [`/api/v1/admin/orders/${wechat.orderNo}/refunds`, '/api/v1/admin/reconciliation/runs']) {
      await t.http.post(path).set('Authorization', `Bearer ${member}`).send({ reason: 'x' }).expect(403);
    }
    // Opened with a member's token in the fragment, the page shows the refusal and nothing else.
    const other = await browser.context.newPage();
    await other.goto(`${t.url}/admin/#token=${member}`);
    await other.getByRole('alert').filter({ hasText: '管理员' }).waitFor();
    expect(await other.locator('#results-table').count()).toBe(0);
    await other.close();
  });

  it('signs in as the demo admin and finds the paid order by its WeChat Pay transaction id', async () => {
    await page.goto(`${t.url}/admin/`);
    await page.evaluate(() => (globalThis as unknown as { sessionStorage: { clear(): void } }).sessionStorage.clear());
    await page.reload();
    await page.getByRole('button', { name: '以演示管理员登录' }).click();
    await heading('查询订单');
    expect(await page.locator('#who').innerText()).toContain('demo-admin');
    const box = page.getByRole('searchbox');
    await box.fill(wechat.transactionId);
    await box.press('Enter');
    await page.getByRole('heading', { name: '找到 1 个订单' }).waitFor();
    const rows = page.locator('#results-table tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain(wechat.orderNo);
    expect(await rows.first().innerText()).toContain('渠道交易号');
    await shots('zh-find');
    await page.getByRole('link', { name: wechat.orderNo }).click();
    await heading(`订单 ${wechat.orderNo}`);
    const timeline = page.locator('#timeline');
    await timeline.getByText(`已通过微信支付支付 ¥${yuan(wechat.amount)}`).waitFor();
    expect(await timeline.innerText()).toContain(wechat.transactionId);
    expect(await timeline.innerText()).toContain('开通会员');
    expect(await timeline.innerText()).toContain('order.paid');
    await shots('zh-order');
  });

  it('refunds part of the order in English, one refund for a double click, and follows its state to the end', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await heading(`Order ${wechat.orderNo}`);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByLabel('An amount').check();
    await page.getByLabel('Amount in yuan').fill('5.00');
    await page.getByLabel(/^Reason/).fill('customer asked for part of it back');
    await page.getByRole('button', { name: 'Refund…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm the refund' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('Refund ¥5.00 to console-w through WeChat Pay.');
    expect(await dialog.innerText()).toContain('The member loses the days these ¥5.00 paid for');
    await shots('en-refund-confirm');
    await dialog.getByRole('button', { name: 'Refund ¥5.00' }).dblclick();
    await dialog.waitFor({ state: 'detached' });
    // WeChat Pay's refund ends with its notification; the page reads the order until it is final.
    await page
      .locator('#order-status')
      .getByText('Partly refunded')
      .waitFor({ timeout: 20 * SECOND });
    await page
      .locator('#refunds-table')
      .getByText('Succeeded')
      .waitFor({ timeout: 20 * SECOND });
    await page.locator('#timeline').getByText('Refund of ¥5.00: Succeeded').waitFor();
    expect(await page.locator('#order-refunded').innerText()).toBe('¥5.00');
    const { rows } = await t.db.query(
      'SELECT r.amount, r.status, r.reason FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1',
      [wechat.orderNo],
    );
    expect(rows).toEqual([{ amount: 500, status: 'success', reason: 'customer asked for part of it back' }]);
    await shots('en-order-refunded');
  });

  it('reconciles the day and finds the Alipay payment the bill showed, settled by reconciliation, in its story', async () => {
    await page.getByRole('link', { name: 'Books' }).click();
    await heading('The day’s books');
    await page.locator('#rerun-alipay').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/^Reason/).fill('notification never came');
    await dialog.getByRole('button', { name: 'Re-run' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 20 * SECOND });
    const run = page.locator('#run-alipay');
    await run.locator('[data-run-status="completed"]').waitFor();
    await run.getByText('Settled by reconciliation').waitFor();
    await page.locator('#rerun-wechat').click();
    await page
      .getByRole('dialog')
      .getByLabel(/^Reason/)
      .fill('daily check');
    await page.getByRole('dialog').getByRole('button', { name: 'Re-run' }).click();
    await page.locator('#run-wechat [data-run-status="completed"]').waitFor({ timeout: 20 * SECOND });
    await shots('en-books');

    // A forged Alipay notification for this order: refused, and filed in its story with the code.
    const forged = new URLSearchParams({ out_trade_no: alipay.paymentNo, trade_status: 'TRADE_SUCCESS', sign: 'Zm9yZ2Vk' });
    const refused = await postNotification(t, 'alipay', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: forged.toString(),
    });
    expect(await refused.text()).toBe('failure');

    const tradeNo = (await paymentOf(alipay.orderNo)).transaction_id;
    expect(tradeNo).toBeTruthy();
    await page.getByRole('link', { name: 'Find' }).click();
    await page.getByRole('searchbox').fill(tradeNo);
    await page.getByRole('searchbox').press('Enter');
    await page.getByRole('link', { name: alipay.orderNo }).click();
    await heading(`Order ${alipay.orderNo}`);
    const entry = page.locator('#timeline li[data-kind="reconciliation.item"]');
    await entry.waitFor();
    expect(await entry.innerText()).toContain(`Reconciliation, Alipay ${today}: Missing here`);
    expect(await entry.innerText()).toContain('Settled by reconciliation');
    expect(await page.locator('#timeline').innerText()).toContain(`Paid ¥${yuan(alipay.amount)} with Alipay`);
    const refusal = page.locator('#timeline li[data-kind="notification.refused"]');
    expect(await refusal.innerText()).toContain('A notification from Alipay was refused: BAD_SIGNATURE');
    expect(await refusal.innerText()).toContain(alipay.paymentNo);
    await shots('en-order-reconciled');
  });

  it('exports the day as CSV (UTF-8 with a BOM, amounts in yuan) and a range', async () => {
    await page.getByRole('link', { name: 'Books' }).click();
    await heading('The day’s books');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-day').click()]);
    expect(download.suggestedFilename()).toBe(`memberpay-books-all-${today}.csv`);
    const bytes = readFileSync((await download.path())!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows: Record<string, string>[] = parse(bytes.toString('utf8'), { bom: true, columns: true });
    const a = rows.find((r) => r['Payment no. (out_trade_no)'] === alipay.paymentNo)!;
    expect(a).toMatchObject({
      'Bill date': today,
      Provider: 'Alipay',
      Kind: 'payment',
      'Order no.': alipay.orderNo,
      'Bill amount (CNY)': yuan(alipay.amount),
      'Action taken': 'settled',
    });
    const w = rows.find((r) => r['Payment no. (out_trade_no)'] === wechat.paymentNo && r.Kind === 'payment')!;
    expect(w).toMatchObject({ Provider: 'WeChat Pay', 'Provider trade no.': wechat.transactionId, Matched: 'yes' });
    // Fees as the bills write them: WeChat Pay's to 0.00001 yuan (0.6 % here), Alipay's to the fen.
    const fee = wechat.amount * 6;
    expect(w['Provider fee (CNY)']).toBe(`${Math.trunc(fee / 100_000)}.${String(fee % 100_000).padStart(5, '0')}`);
    expect(a['Provider fee (CNY)']).toBe(yuan(Math.round((alipay.amount * 6) / 1000)));
    expect(rows.find((r) => r.Kind === 'refund' && r['Order no.'] === wechat.orderNo)).toMatchObject({ 'Our amount (CNY)': '5.00' });
    await page.locator('#export-status').getByText(`Saved memberpay-books-all-${today}.csv.`).waitFor();

    const [range] = await Promise.all([page.waitForEvent('download'), page.locator('#export-range').click()]);
    expect(range.suggestedFilename()).toBe(`memberpay-books-all-${today}.csv`);
  });

  it('shows every action in the audit log, and a member without auto-renewal', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await heading('Audit log');
    const { rows } = await t.db.query('SELECT action, target, actor FROM admin_audit_log ORDER BY id');
    expect(rows.map((r) => r.action)).toEqual([
      'refund.requested',
      'reconciliation.day_rerun',
      'reconciliation.day_rerun',
      'reconciliation.exported',
      'reconciliation.exported',
    ]);
    expect(rows.every((r) => r.actor === 'demo-admin')).toBe(true);
    const table = page.locator('#audit-table tbody tr');
    expect(await table.count()).toBe(rows.length);
    const text = await page.locator('#audit-table').innerText();
    for (const words of ['Refund', 'Re-ran a day', 'Exported the books', 'customer asked for part of it back', 'notification never came'])
      expect(text).toContain(words);
    await shots('en-audit');

    await page.goto(`${t.url}/admin/#/member/console-w`);
    await heading('Member console-w');
    expect(await page.locator('#member-level').innerText()).toBe('Level 1');
    expect(await page.locator('#auto-renewal').innerText()).toContain('This member has never signed up for auto-renewal.');
    expect(await page.locator('#auto-renewal button').count()).toBe(0);
    await shots('en-member');

    await page.getByRole('button', { name: '中文' }).click();
    await heading('会员 console-w');
    await shots('zh-member');
    await page.getByRole('link', { name: '对账' }).click();
    await heading('当日对账');
    await shots('zh-books');
    await page.getByRole('link', { name: '操作日志' }).click();
    await heading('操作日志');
    await shots('zh-audit');
    await page.goto(`${t.url}/admin/#/order/${alipay.orderNo}`);
    await heading(`订单 ${alipay.orderNo}`);
    await page.locator('#timeline').getByText('已由对账入账').waitFor();
    await shots('zh-order-reconciled');
  });

  it("shows a member's auto-renewal contract and cancels it with a reason and a confirmation", async () => {
    // console-w signs a WeChat Pay contract at the sandbox; its callback activates it.
    const contract = await t.app.get(SubscriptionsService).openPending('console-w', 'wechat', { id: 1, code: 'basic_monthly' }, 1990);
    const wx = t.app.get(AgreementRegistry).find('wechat') as AgreementProvider;
    const signing = await wx.sign({
      contractNo: contract.contract_no,
      paymentNo: newPaymentNo(new Date()),
      planCode: 'basic_monthly',
      amountFen: 1990,
      description: '会员月卡（自动续费）',
      displayAccount: 'console-w',
      periodDays: 30,
      firstDeductionDate: today,
      clientIp: '127.0.0.1',
    });
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url });
    expect(signed.status).toBe(200);
    const deadline = Date.now() + 20 * SECOND;
    const statusOf = async () =>
      (await t.db.query('SELECT status FROM contracts WHERE contract_no = $1', [contract.contract_no])).rows[0].status as string;
    while ((await statusOf()) !== 'active') {
      if (Date.now() > deadline) throw new Error('the contract was never activated');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    await page.goto(`${t.url}/admin/#/member/console-w`);
    await page.getByRole('button', { name: 'English' }).click();
    await heading('Member console-w');
    const card = page.locator('#auto-renewal');
    await card
      .locator('#contract-status')
      .getByText('Active')
      .waitFor({ timeout: 20 * SECOND });
    const facts = await card.innerText();
    for (const words of ['WeChat Pay', '¥19.90', contract.contract_no, signed.body.contract_id]) expect(facts).toContain(words);

    // The reason is required before anything is asked of the provider.
    await card.getByRole('button', { name: 'Cancel auto-renewal…' }).click();
    await card.getByRole('alert').getByText('Say why.').waitFor();
    await card.getByLabel(/^Why cancel it/).fill('member called to stop renewals');
    await card.getByRole('button', { name: 'Cancel auto-renewal…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this auto-renewal?' });
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('Member console-w: no more renewals');
    expect(await dialog.innerText()).toContain('The days already paid for stay');
    await shots('en-contract-confirm');
    // Keyboard: the dialog opens on "Keep it"; going back changes nothing.
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    expect((await t.db.query('SELECT status FROM contracts WHERE contract_no = $1', [contract.contract_no])).rows[0].status).toBe('active');

    await card.getByRole('button', { name: 'Cancel auto-renewal…' }).click();
    await dialog.getByRole('button', { name: 'Cancel auto-renewal' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 20 * SECOND });
    await page.locator('#contract-status').getByText('Cancelled').waitFor();
    expect(await page.locator('#auto-renewal').innerText()).toContain('by support');
    // Over: its ids stay copyable, and there is nothing left to cancel.
    expect(await page.locator('#contract-cancel').count()).toBe(0);
    await shots('en-member-contract-cancelled');
    const { rows } = await t.db.query(`SELECT actor, reason, target FROM admin_audit_log WHERE action = 'auto_renewal.cancelled'`);
    expect(rows).toEqual([{ actor: 'demo-admin', reason: 'member called to stop renewals', target: 'console-w' }]);

    await page.getByRole('button', { name: '中文' }).click();
    await heading('会员 console-w');
    expect(await page.locator('#auto-renewal').innerText()).toContain('客服解约');
    await shots('zh-member-contract');
  });
});
