// @ts-check
// The checkout page: a reference client of memberpay's REST and WebSocket APIs. It prices the
// member's choices (GET /membership/quotes), creates an order with a QR code, listens for the order's
// events (polling GET /orders/:order_no while the socket is down) and shows the membership's periods.
import { ApiError, createApi, NetworkError, newIdempotencyKey, serverNow } from './api.js';
import { renderBuy, renderPayButton } from './buy.js';
import { byId } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';
import { connectLive } from './live.js';
import { quoteKey } from './names.js';
import { renderLive, renderMembership, renderOrders, renderProblem } from './panels.js';
import { countdownText, renderPayment } from './payment.js';
import { channelFor, payExpiry, state } from './state.js';

/** @typedef {import('./state.js').Membership} Membership */
/** @typedef {import('./state.js').Order} Order */
/** @typedef {import('./state.js').Phase} Phase */

const POLL_MS = 3000;

const api = createApi(() => state.token, renewToken);

/** A token given in the URL fragment (never sent to a server, so never in a log) wins over the demo one. */
function tokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

/** A demo session gets a new demo token; a token given in the URL is never swapped for another member's. */
async function renewToken() {
  if (!state.config?.demo_token || (state.token && !state.demo)) return false;
  try {
    const answer = await fetch('/api/v1/checkout/demo-token', { method: 'POST', headers: { Accept: 'application/json' } });
    if (!answer.ok) return false;
    state.token = (await answer.json()).token;
    state.demo = true;
    return true;
  } catch {
    return false;
  }
}

async function loadAll() {
  const [plans, quotes, membership, orders] = await Promise.all([
    api.get('/api/v1/membership/plans'),
    api.get('/api/v1/membership/quotes'),
    api.get('/api/v1/membership/me'),
    api.get('/api/v1/payment/orders?limit=20'),
  ]);
  state.plans = plans;
  state.quotes = quotes.data;
  state.membership = membership;
  state.orders = orders.data;
  const keys = state.quotes.map(quoteKey);
  if (!state.choice || !keys.includes(state.choice)) state.choice = keys[0] ?? null;
}

/** Reloads what a payment changes; a failure here leaves the last good view in place. */
async function refresh() {
  try {
    await loadAll();
  } catch (e) {
    state.problem = { error: e };
  }
  render();
}

function render() {
  document.documentElement.lang = currentLang() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('documentTitle');
  for (const el of document.querySelectorAll('[data-i18n]')) {
    el.textContent = t(/** @type {any} */ (el.getAttribute('data-i18n')));
  }
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.getAttribute('data-lang') === currentLang()));
  }
  byId('lang-switch').setAttribute('aria-label', t('languages'));
  byId('sandbox-banner').hidden = !state.config?.sandbox;
  byId('demo-user').hidden = !state.demo;
  renderProblem(() => {
    state.problem = null;
    render();
  });
  renderBuy();
  renderPayment({ newQr, cancelOrder, backToPlans });
  renderMembership({ cancelAutoRenew });
  renderOrders();
  renderLive();
}

/** Shows a new problem where the member is looking (on a phone the alert may be scrolled away). */
function showProblem() {
  render();
  byId('problem').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

/** Moves focus to the new state's heading, so keyboard and screen-reader users land on it. */
function focusPayment() {
  requestAnimationFrame(() => document.getElementById('payment-title')?.focus());
}

/** @param {string} text */
function announce(text) {
  byId('announcer').textContent = text;
}

/** @param {SubmitEvent} event */
async function buy(event) {
  event.preventDefault();
  const quote = state.quotes.find((q) => quoteKey(q) === state.choice);
  if (!quote || state.busy) return;
  state.busy = true;
  state.problem = null;
  renderPayButton();
  // The same choice tried again after a lost answer reuses its Idempotency-Key: the service then
  // answers with the order it already created instead of creating a second one.
  const channel = channelFor(state.method);
  const autoRenew = state.autoRenew;
  const request = `${state.choice}:${state.method}:${channel}:${autoRenew}`;
  if (state.attempt?.request !== request) state.attempt = { request, key: newIdempotencyKey() };
  try {
    const order = await api.post(
      '/api/v1/payment/create-order?include=qr_code_image',
      {
        product_type: 'membership',
        product_id: quote.plan.id,
        payment_method: state.method,
        is_upgrade: quote.is_upgrade,
        channel,
        ...(autoRenew ? { auto_renew: true } : {}),
      },
      { 'Idempotency-Key': state.attempt.key },
    );
    state.attempt = null;
    showOrder(order);
    const method = /** @type {'wechat' | 'alipay'} */ (order.payment_method);
    announce(t(order.channel && order.channel !== 'qr' ? 'phoneTitle' : order.auto_renew ? `scanSignTitle.${method}` : 'scanTitle'));
    focusPayment();
    void refresh();
  } catch (e) {
    state.problem = { error: e, method: state.method };
    // A refusal is final for that key; a lost answer or a provider failure may be retried with it.
    if (e instanceof ApiError && e.status < 500) state.attempt = null;
    if (e instanceof ApiError && ['PRODUCT_NOT_FOUND', 'MEMBERSHIP_CONFLICT', 'AUTO_RENEW_ACTIVE'].includes(e.code)) await refresh();
  } finally {
    state.busy = false;
    if (state.problem) showProblem();
    else render();
  }
}

/** @param {Order} order */
function showOrder(order) {
  const previousImage = state.current?.order_no === order.order_no ? state.current.qr_code_image : null;
  state.current = { ...order, qr_code_image: order.qr_code_image ?? previousImage };
  state.phase = phaseOf(state.current);
  render();
}

/** @param {Order} order @returns {Phase} */
function phaseOf(order) {
  if (order.status === 'paid' || order.status === 'refunded' || order.status === 'partially_refunded') return 'paid';
  if (order.status === 'expired' || order.status === 'closed' || order.status === 'failed') return order.status;
  return Date.parse(payExpiry(order) ?? '') > serverNow() ? 'qr' : 'qr-expired';
}

async function newQr() {
  const order = state.current;
  if (!order || state.busy) return;
  state.busy = true;
  render();
  try {
    showOrder(await api.post(`/api/v1/payment/orders/${encodeURIComponent(order.order_no)}/refresh?include=qr_code_image`));
    focusPayment();
  } catch (e) {
    state.problem = { error: e, method: order.payment_method };
    await pollOnce();
  } finally {
    state.busy = false;
    render();
  }
}

async function cancelOrder() {
  const order = state.current;
  if (!order || state.busy) return;
  state.busy = true;
  render();
  try {
    showOrder(await api.post(`/api/v1/payment/orders/${encodeURIComponent(order.order_no)}/cancel`));
    focusPayment();
  } catch (e) {
    state.problem = { error: e, method: order.payment_method };
    await pollOnce();
  } finally {
    state.busy = false;
    await refresh();
  }
}

/** The member cancels auto-renewal: one press, as easy as signing. */
async function cancelAutoRenew() {
  if (state.busy) return;
  state.busy = true;
  render();
  try {
    await api.post('/api/v1/membership/auto-renew/cancel');
    announce(t('autoRenewStatus.cancelled'));
  } catch (e) {
    state.problem = { error: e, method: state.membership?.auto_renew?.provider };
  } finally {
    state.busy = false;
    await refresh();
    if (state.problem) showProblem();
  }
}

function backToPlans() {
  state.current = null;
  state.phase = null;
  render();
  requestAnimationFrame(() => byId('buy-title').focus());
}

/** @param {string} event @param {import('./live.js').OrderEvent} message */
function onEvent(event, message) {
  const mine = state.current?.order_no === message.order_no;
  if (event === 'order.paid' && mine && state.current) {
    state.current = { ...state.current, status: 'paid' };
    state.phase = 'paid';
    const membership = /** @type {Membership | undefined} */ (message.membership);
    if (membership) state.membership = { ...state.membership, ...membership };
    render();
    announce(t('paidTitle'));
    focusPayment();
  } else if ((event === 'order.expired' || event === 'order.closed') && mine && state.current && state.phase !== 'paid') {
    state.current = { ...state.current, status: String(message.status) };
    state.phase = /** @type {Phase} */ (message.status);
    render();
    announce(event === 'order.expired' ? t('expiredTitle') : t('closedTitle'));
    focusPayment();
  }
  void refresh();
}

/** While the socket is down, the order's own URL tells what happened to it. */
async function pollOnce() {
  const order = state.current;
  if (!order || state.phase === 'paid') return;
  try {
    const latest = /** @type {Order} */ (await api.get(`/api/v1/payment/orders/${encodeURIComponent(order.order_no)}`));
    if (state.current?.order_no !== latest.order_no || latest.status === 'pending') return;
    showOrder(latest);
    await refresh();
    const phase = /** @type {Phase | null} */ (state.phase);
    announce(t(phase === 'paid' ? 'paidTitle' : phase === 'closed' ? 'closedTitle' : 'expiredTitle'));
    focusPayment();
  } catch {
    // The next round tries again; the socket may also come back first.
  }
}

function tick() {
  if (state.phase === 'qr' && state.current) {
    if (phaseOf(state.current) === 'qr-expired') {
      state.phase = 'qr-expired';
      render();
      announce(t('qrExpired'));
    } else {
      const el = document.getElementById('countdown');
      if (el) el.textContent = countdownText(state.current);
    }
  }
}

async function start() {
  byId('buy-form').addEventListener('submit', (e) => void buy(/** @type {SubmitEvent} */ (e)));
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => {
      setLang(/** @type {'en' | 'zh'} */ (button.getAttribute('data-lang')));
      render();
    });
  }
  render();
  try {
    state.config = await api.get('/api/v1/checkout/config');
    state.token = tokenFromFragment();
    if (!state.token && !(await renewToken())) throw state.config?.demo_token ? new NetworkError('no token') : 'NO_TOKEN';
    await loadAll();
  } catch (e) {
    state.problem = { error: e };
    render();
    return;
  }
  connectLive({
    getToken: () => state.token,
    renewToken,
    storageKey: 'memberpay.lastEventId',
    onEvent,
    onState: (live) => {
      state.live = live;
      renderLive();
    },
    onSignedOut: () => {
      state.problem = { error: new ApiError(401, 'UNAUTHENTICATED', 'The token has expired', undefined) };
      showProblem();
    },
  });
  setInterval(tick, 1000);
  setInterval(() => {
    if (state.live !== 'live' && (state.phase === 'qr' || state.phase === 'qr-expired')) void pollOnce();
    // A contract's signing is confirmed by its own callback, with no event to the page: look again until it is.
    else if (state.phase === 'paid' && state.membership?.auto_renew?.status === 'pending' && !state.busy) void refresh();
  }, POLL_MS);
  render();
}

void start();
