import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { useApp } from '../support/lifecycle';
import { ARTIFACT_DIR, describeInBrowser, launchBrowser, type Browser } from '../support/browser';
import { providerEnv } from '../support/sandbox';

// The checkout page on a phone-sized screen, in a real chromium: a QR code cannot be scanned by
// the phone showing it, so the page opens WeChat Pay H5 / Alipay WAP instead, in another tab, and
// waits for order.paid. Screenshots land in test-artifacts/checkout/.

const SECOND = 1000;

describeInBrowser('checkout page on a phone', () => {
  let browser: Browser;
  let page: Page;

  const orders = async () =>
    (
      await t.http
        .get('/api/v1/payment/orders')
        .set('Authorization', `Bearer ${t.token('demo')}`)
        .expect(200)
    ).body.data;
  const visible = (p: Page, name: string | RegExp, timeout = 15 * SECOND) =>
    p.getByRole('heading', { name }).waitFor({ state: 'visible', timeout });

  /** Chooses a plan and a method on the phone-sized page, presses Pay, and opens the provider's page in a new tab. */
  async function payOnPhone(plan: RegExp, method: 'WeChat Pay' | 'Alipay'): Promise<Page> {
    await page.getByRole('radio', { name: plan }).check();
    await page.getByRole('radio', { name: new RegExp(method) }).check();
    await page.getByRole('button', { name: new RegExp(`^Pay ¥\\d+\\.\\d\\d with ${method}$`) }).click();
    await visible(page, 'Pay on this phone');
    expect(await page.locator('img.qr-image').count()).toBe(0);
    expect(await page.getByRole('timer').innerText()).toMatch(/^The payment link expires in \d+:\d\d$/);
    await page.screenshot({
      path: join(ARTIFACT_DIR, `phone-en-${method === 'Alipay' ? 'alipay-wap' : 'wechat-h5'}.png`),
      fullPage: true,
    });
    const [tab] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('link', { name: method === 'Alipay' ? 'Open Alipay' : 'Open WeChat Pay' }).click(),
    ]);
    await tab.getByRole('button', { name: /^Pay ¥/ }).click();
    return tab;
  }

  // Declared before useApp: hooks run in declaration order, so the browser (its socket and its
  // status polling on kept-alive connections) is gone before the service closes and waits for them.
  beforeAll(async () => {
    browser = await launchBrowser({ locale: 'en-US' });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.setViewportSize({ width: 390, height: 844 });
  });

  afterAll(async () => {
    await browser?.close();
  });
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });

  it('pays with WeChat Pay H5: the h5_url opens in a new tab, the page shows the payment when it arrives', async () => {
    await page.goto(`${t.url}/`);
    await visible(page, 'Choose your membership');
    const tab = await payOnPhone(/Basic, monthly/, 'WeChat Pay');
    await tab.getByText('Paid. Notification acknowledged.').waitFor();
    await tab.close();
    await visible(page, 'Payment received');
    const [order] = await orders();
    expect(order).toMatchObject({ status: 'paid', payment_method: 'wechat', channel: 'h5' });
  });

  it("pays with Alipay WAP: Alipay's page opens in a new tab and sends that tab to the return page", async () => {
    await page.getByRole('button', { name: 'Done' }).click();
    const tab = await payOnPhone(/Basic, monthly/, 'Alipay');
    // The cashier's Pay sends the browser back to ALIPAY_RETURN_URL, which verifies Alipay's signature.
    await tab.getByText('Paid. Your membership is active.').waitFor();
    await tab.close();
    await visible(page, 'Payment received');
    const [order] = await orders();
    expect(order).toMatchObject({ status: 'paid', payment_method: 'alipay', channel: 'wap' });
  });

  it('keeps the QR code on a desktop-sized screen', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('radio', { name: /Basic, monthly/ }).check();
    await page.getByRole('radio', { name: /WeChat Pay/ }).check();
    await page.getByRole('button', { name: /^Pay ¥\d+\.\d\d with WeChat Pay$/ }).click();
    await visible(page, 'Scan to pay');
    const [order] = await orders();
    expect(order).toMatchObject({ status: 'pending', channel: 'qr' });
  });
});
