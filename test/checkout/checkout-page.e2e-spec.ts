import type { Page } from 'playwright-core';
import { TokenService } from '../../src/auth/token.service';
import { ExpireOrdersJob } from '../../src/orders/expire-orders.job';
import { membershipOf } from '../support/orders';
import { useApp } from '../support/lifecycle';
import { describeInBrowser, screenshot, launchBrowser, type Browser } from '../support/browser';
import { requestRefund } from '../support/refunds';
import { providerEnv, sandboxCall } from '../support/sandbox';

// The checkout page at / in a real chromium: buy with each provider, pay on the sandbox's own page,
// see the paid state arrive over the WebSocket (and by polling when the socket is down), let a QR
// code expire and get a new one. Screenshots land in test-artifacts/checkout/.

const SECOND = 1000;
/** A QR code of the shortest configurable life, so that the test can watch one expire. */
const QR_MINUTES = 1;

describeInBrowser('checkout page in a browser', () => {
  let browser: Browser;
  let page: Page;

  const shot = (name: string) => screenshot(page, name);
  const me = () => membershipOf(t, 'demo');
  const heading = (p: Page, name: string | RegExp) => p.getByRole('heading', { name });
  const visible = (p: Page, name: string | RegExp, timeout = 15 * SECOND) => heading(p, name).waitFor({ state: 'visible', timeout });

  /** Chooses a quote and a method, presses Pay and waits for the QR code. */
  async function startPayment(p: Page, plan: RegExp, method: 'WeChat Pay' | 'Alipay'): Promise<string> {
    await p.getByRole('radio', { name: plan }).check();
    await p.getByRole('radio', { name: new RegExp(method) }).check();
    await p.getByRole('button', { name: new RegExp(`^Pay ¥\\d+\\.\\d\\d with ${method}$`) }).click();
    await visible(p, 'Scan to pay');
    const src = await p.locator('img.qr-image').getAttribute('src');
    expect(src).toMatch(/^data:image\/png;base64,/);
    return src!;
  }

  /** Opens the QR code's link (the sandbox's pay page, in a new tab) and presses its Pay button there. */
  async function payOnSandboxPage(p: Page): Promise<void> {
    const [tab] = await Promise.all([
      p.context().waitForEvent('page'),
      p.getByRole('link', { name: 'Pay it on the sandbox page' }).click(),
    ]);
    await tab.getByRole('button', { name: /^Pay ¥/ }).click();
    await tab.getByText('Paid. Notification acknowledged.').waitFor();
    await tab.close();
  }

  /** The paid state, read from the page: its expiry must be the one the service reports now. */
  async function expectPaidState(p: Page): Promise<void> {
    await visible(p, 'Payment received');
    const membership = await me();
    await p.locator(`#paid-expires[datetime="${membership.expires_at}"]`).waitFor();
    await p.locator(`#member-expires[datetime="${membership.expires_at}"]`).waitFor();
    await p.locator(`#periods > li:nth-child(${membership.periods.length})`).waitFor();
    expect(await p.locator('#periods > li').count()).toBe(membership.periods.length);
  }

  // Declared before useApp: hooks run in declaration order, so the browser (its socket and its
  // status polling on kept-alive connections) is gone before the service closes and waits for them.
  beforeAll(async () => {
    browser = await launchBrowser({ locale: 'zh-CN' });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });

  afterAll(async () => {
    await browser?.close();
  });
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), QR_CODE_EXPIRE_MINUTES: String(QR_MINUTES) }), { sandbox: true });

  it('speaks the browser language (Chinese here), says it runs against the sandbox, and switches to English', async () => {
    await page.goto(`${t.url}/`);
    await visible(page, '选择会员方案');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.getByRole('radio', { name: /微信支付/ }).waitFor();
    await page.getByRole('radio', { name: /支付宝/ }).waitFor();
    expect(await page.locator('#sandbox-banner').innerText()).toContain('支付沙箱');
    await page.getByRole('status').getByText('实时更新已连接').waitFor();
    await shot('desktop-zh-plans');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('phone-zh-plans');
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByRole('button', { name: 'English' }).click();
    await visible(page, 'Choose your membership');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('#sandbox-banner').innerText()).toContain('no real money');
  });

  it('buys a plan with WeChat Pay, is paid on the sandbox page and shows the paid state and expiry without reloading', async () => {
    await page.evaluate(() => {
      (globalThis as { sameDocument?: boolean }).sameDocument = true;
    });
    await startPayment(page, /Basic, monthly/, 'WeChat Pay');
    expect(await page.getByRole('timer').innerText()).toMatch(/^The code expires in [01]:\d\d$/);
    await shot('desktop-en-wechat-qr');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('phone-en-wechat-qr');
    await page.setViewportSize({ width: 1280, height: 900 });

    await payOnSandboxPage(page);
    await expectPaidState(page);
    expect((await me()).level).toBe(1);
    expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);
    await page.locator('#orders tbody tr').filter({ hasText: 'Paid' }).first().waitFor();
    await shot('desktop-en-paid');
  });

  it('upgrades with Alipay at the quoted price and shows the new level', async () => {
    const quotes = (
      await t.http
        .get('/api/v1/membership/quotes')
        .set('Authorization', `Bearer ${t.token('demo')}`)
        .expect(200)
    ).body.data;
    // One upgrade per higher level, saying how many days it converts; no "list price" beside it.
    const upgrades = quotes.filter((q: { kind: string }) => q.kind === 'upgrade');
    expect(upgrades).toHaveLength(1);
    const [upgrade] = upgrades;
    await page.getByRole('button', { name: 'Done' }).click();
    const choice = page.locator('label.kind-upgrade');
    await choice.getByText(`Your remaining ${upgrade.upgrade_days} days become Premium`).waitFor();
    expect(await choice.locator('.list-price').count()).toBe(0);
    await startPayment(page, /Upgrade to Premium/, 'Alipay');
    expect(await page.locator('.pay-amount').innerText()).toContain(
      `¥${Math.floor(upgrade.amount / 100)}.${String(upgrade.amount % 100).padStart(2, '0')}`,
    );
    await payOnSandboxPage(page);
    await expectPaidState(page);
    expect((await me()).level).toBe(2);
    await page.locator('.member-now').getByText('Premium').waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('phone-en-paid');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it(
    'lets a QR code expire, then gets a new one that can be paid',
    async () => {
      await page.getByRole('button', { name: 'Done' }).click();
      const first = await startPayment(page, /Premium, monthly/, 'WeChat Pay');
      const newQr = page.getByRole('button', { name: 'New QR code' });
      await newQr.waitFor({ state: 'visible', timeout: (QR_MINUTES * 60 + 30) * SECOND });
      expect(await page.locator('.qr-expired-text').innerText()).toMatch(/^This QR code has expired\./);
      await shot('desktop-en-qr-expired');
      await newQr.click();
      await page.getByRole('timer').waitFor();
      const second = await page.locator('img.qr-image').getAttribute('src');
      expect(second).toMatch(/^data:image\/png;base64,/);
      expect(second).not.toBe(first);
      await payOnSandboxPage(page);
      await expectPaidState(page);
    },
    (QR_MINUTES * 60 + 90) * SECOND,
  );

  it('shows a cancelled order as cancelled, and an expired one as expired', async () => {
    await page.getByRole('button', { name: 'Done' }).click();
    await startPayment(page, /Premium, monthly/, 'Alipay');
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await visible(page, 'This order was cancelled');

    await page.getByRole('button', { name: 'Choose again' }).click();
    await startPayment(page, /Premium, monthly/, 'WeChat Pay');
    const orderNo = await page.locator('.payment .order-no code').innerText();
    const order = (
      await t.http
        .get(`/api/v1/payment/orders/${orderNo}`)
        .set('Authorization', `Bearer ${t.token('demo')}`)
        .expect(200)
    ).body;
    // The expiry job, run as at a moment after the order's expiry, sends order.expired to the page.
    await t.app.get(ExpireOrdersJob).run(new Date(Date.parse(order.expire_at) + SECOND));
    await visible(page, 'This order has expired');
    await page.locator(`#orders tr[data-order-no="${orderNo}"]`).getByText('Expired').waitFor();
    await shot('desktop-en-order-expired');
  });

  it('says in words when the provider fails', async () => {
    await page.getByRole('button', { name: 'Choose again' }).click();
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'native', mode: 'error-500' });
    try {
      await page.getByRole('radio', { name: /WeChat Pay/ }).check();
      await page.getByRole('button', { name: /^Pay ¥\d+\.\d\d with WeChat Pay$/ }).click();
      const alert = page.getByRole('alert');
      await alert.getByText('WeChat Pay is not answering properly right now. Nothing was charged').waitFor();
      await shot('desktop-en-provider-down');
    } finally {
      await sandboxCall(sb, 'DELETE', '/sandbox/faults');
    }
  });

  it('says in words when the chosen plan was withdrawn meanwhile, and updates the list', async () => {
    await page.getByRole('radio', { name: /Premium, yearly/ }).check();
    await t.db.query("UPDATE membership_plans SET active = false WHERE code = 'premium_yearly'");
    try {
      await page.getByRole('button', { name: /^Pay ¥399\.00 with WeChat Pay$/ }).click();
      await page.getByRole('alert').getByText('This plan is no longer available. The list has been updated.').waitFor();
      await page.getByRole('radio', { name: /Premium, yearly/ }).waitFor({ state: 'detached' });
    } finally {
      await t.db.query("UPDATE membership_plans SET active = true WHERE code = 'premium_yearly'");
    }
  });

  it('retries a create-order whose answer was lost with the same Idempotency-Key: one order, not two', async () => {
    const demoOrders = async () => (await t.db.query("SELECT order_no FROM orders WHERE user_id = 'demo' ORDER BY created_at")).rows;
    const before = await demoOrders();
    const createOrderUrl = (url: URL) => url.pathname === '/api/v1/payment/create-order';
    let answered = false;
    await page.route(createOrderUrl, async (route) => {
      if (answered) return route.continue();
      answered = true;
      await route.fetch(); // the service creates the order…
      await route.abort('connectionreset'); // …and its answer never reaches the page
    });
    try {
      await page.getByRole('radio', { name: /Premium, quarterly/ }).check();
      await page.getByRole('radio', { name: /Alipay/ }).check();
      const pay = page.getByRole('button', { name: /^Pay ¥109\.90 with Alipay$/ });
      await pay.click();
      await page.getByRole('alert').getByText('The service cannot be reached').waitFor();
      await pay.click();
      await visible(page, 'Scan to pay');
    } finally {
      await page.unroute(createOrderUrl);
    }
    const after = await demoOrders();
    expect(after).toHaveLength(before.length + 1);
    expect(await page.locator('.payment .order-no code').innerText()).toBe(after.at(-1).order_no);
  });

  it('reconnects with auth.lastEventId and then receives the payment it missed', async () => {
    // Only the socket can tell the page: polling the order is refused throughout.
    const orderPoll = (url: URL) => /^\/api\/v1\/payment\/orders\/[^/]+$/.test(url.pathname);
    await page.route(orderPoll, (route) => route.abort());
    const unblock = await blockSocketIo(page);
    // The last event id seen is kept for the tab (sessionStorage), so a reload keeps it too.
    expect(await page.evaluate("sessionStorage.getItem('memberpay.lastEventId')")).toMatch(/^\d+$/);
    await page.reload();
    await page.getByRole('status').getByText('Live updates interrupted').waitFor();
    await startPayment(page, /Premium, monthly/, 'WeChat Pay');
    const orderNo = await page.locator('.payment .order-no code').innerText();
    const href = await page.getByRole('link', { name: 'Pay it on the sandbox page' }).getAttribute('href');
    expect((await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: new URL(href!).searchParams.get('qr') })).status).toBe(200);
    const order = await t.http
      .get(`/api/v1/payment/orders/${orderNo}`)
      .set('Authorization', `Bearer ${t.token('demo')}`)
      .expect(200);
    expect(order.body.status).toBe('paid');
    expect(await heading(page, 'Scan to pay').count()).toBe(1);

    unblock();
    await page
      .getByRole('status')
      .getByText('Live updates on')
      .waitFor({ timeout: 20 * SECOND });
    await expectPaidState(page);
    await page.unroute(orderPoll);
  });

  it('signs in with a token given in the URL fragment, and says so when that token expires', async () => {
    const other = await browser.context.newPage();
    try {
      const token = t.app.get(TokenService).sign('fragment-member', 3);
      await other.goto(`${t.url}/#token=${token}`);
      await other.getByRole('status').getByText('Live updates on').waitFor();
      expect(other.url()).toBe(`${t.url}/`);
      expect(await other.locator('#demo-user').isHidden()).toBe(true);
      // The server closes the socket when the token expires; a token from the URL is never swapped for the demo one.
      await other
        .getByRole('alert')
        .getByText('Your sign-in has expired')
        .waitFor({ timeout: 20 * SECOND });
    } finally {
      await other.close();
    }
  });

  it('falls back to polling the order while the WebSocket is down', async () => {
    const second = await browser.context.newPage();
    // Refuse only the socket.io endpoint; the page's copy of the client script still loads.
    await blockSocketIo(second);
    try {
      await second.goto(`${t.url}/`);
      await second.getByRole('status').getByText('Live updates interrupted').waitFor();
      await startPayment(second, /Premium, monthly/, 'Alipay');
      const href = await second.getByRole('link', { name: 'Pay it on the sandbox page' }).getAttribute('href');
      const qr = new URL(href!).searchParams.get('qr');
      expect((await sandboxCall(sb, 'POST', '/sandbox/pay', { qr })).status).toBe(200);
      await expectPaidState(second);
    } finally {
      await second.close();
    }
  });

  it('shows a refund in the orders list as it happens', async () => {
    const {
      body: { data: orders },
    } = await t.http
      .get('/api/v1/payment/orders?limit=100')
      .set('Authorization', `Bearer ${t.token('demo')}`)
      .expect(200);
    const first = orders.at(-1);
    expect(first).toMatchObject({ status: 'paid', amount: 1990 });
    await page.goto(`${t.url}/`);
    const row = page.locator(`#orders tr[data-order-no="${first.order_no}"]`);
    await row.getByText('Paid').waitFor();
    expect((await requestRefund(t, first.order_no, { amount: 500, reason: 'goodwill' })).status).toBe(202);
    await row.getByText('Partly refunded').waitFor();
    expect(await row.locator('td').nth(3).innerText()).toBe('¥5.00');
    await shot('desktop-en-refunded');
  });
});

/**
 * Refuses the page's socket.io traffic, both transports (long-polling requests and WebSocket
 * connections: page.route alone never sees a WebSocket), until the returned function is called.
 * The page's copy of the client script is served elsewhere and still loads.
 */
async function blockSocketIo(p: Page): Promise<() => void> {
  let blocked = true;
  const socketIo = (url: URL) => url.pathname.startsWith('/socket.io/');
  await p.route(socketIo, (route) => (blocked ? route.abort() : route.continue()));
  await p.routeWebSocket(socketIo, (ws) => {
    if (blocked) void ws.close();
    else ws.connectToServer();
  });
  return () => {
    blocked = false;
  };
}
