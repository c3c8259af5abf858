// @ts-check
// The checkout page: a reference client of memberpay's REST and WebSocket APIs. It prices the
// member's choices (GET /membership/quotes), creates an order with a QR code, listens for the order's
// events (polling GET /orders/:order_no while the socket is down) and shows the membership's periods.
import { ApiError, createApi, NetworkError, newIdempotencyKey, serverNow } from './api.js';
import { byId, h, present } from './dom.js';
import { date, dateTime, minutesSeconds, yuan } from './format.js';
import { currentLang, setLang, t } from './i18n.js';
import { connectLive } from './live.js';

/** @typedef {{ id: number, code: string, name: string, level: number, duration_days: number, price: number }} Plan */
/** @typedef {{ plan: Plan, kind: 'purchase' | 'renewal' | 'upgrade', is_upgrade: boolean, amount: number }} Quote */
/** @typedef {{ level: number, plan_code: string, starts_at: string, ends_at: string, order_no: string | null }} Period */
/** @typedef {{ active?: boolean, level: number | null, expires_at: string | null, periods?: Period[] }} Membership */
/**
 * @typedef {{ order_no: string, status: string, amount: number, description: string, product_id: number,
 *   is_upgrade: boolean, payment_method: 'wechat' | 'alipay', qr_code_url: string | null, qr_code_image?: string | null,
 *   qr_code_expire_at: string | null, expire_at: string, created_at: string, refunded_amount?: number }} Order
 */
/** @typedef {'qr' | 'qr-expired' | 'paid' | 'expired' | 'closed' | 'failed'} Phase */

const POLL_MS = 3000;
const METHODS = /** @type {const} */ (['wechat', 'alipay']);

const state = {
  /** @type {{ sandbox: boolean, demo_token: boolean, payment_methods: string[], sandbox_pay_page: Record<string, string | null> } | null} */
  config: null,
  /** @type {string | null} */
  token: null,
  /** @type {Plan[]} */ plans: [],
  /** @type {Quote[]} */ quotes: [],
  /** @type {Membership | null} */ membership: null,
  /** @type {Order[]} */ orders: [],
  /** @type {string | null} the chosen quote, as "<plan id>:<is_upgrade>" */ choice: null,
  /** @type {'wechat' | 'alipay'} */ method: 'wechat',
  /** @type {Order | null} */ current: null,
  /** @type {Phase | null} */ phase: null,
  busy: false,
  /** signed in with a demo token (not one given in the URL) */ demo: false,
  /** @type {'connecting' | 'live' | 'down'} */ live: 'connecting',
  /** @type {{ error: unknown, method?: string } | null} */ problem: null,
};

const api = createApi(() => state.token, renewToken);

// ---- sign-in ----

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

// ---- loading ----

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

// ---- names ----

/** @param {Quote} q */
const quoteKey = (q) => `${q.plan.id}:${q.is_upgrade}`;

/** @param {string} code */
function tierOf(code) {
  const tier = code.split('_')[0];
  return tier === 'basic' || tier === 'premium' ? t(`tier.${tier}`) : null;
}

/** @param {Plan} plan */
function planName(plan) {
  const [tier, term] = plan.code.split('_');
  const tierName = tierOf(plan.code);
  if (!tierName || !['monthly', 'quarterly', 'yearly'].includes(term)) return plan.name;
  return currentLang() === 'zh'
    ? `${tierName} · ${t(/** @type {any} */ (`term.${term}`))}`
    : `${tierName}, ${t(/** @type {any} */ (`term.${term}`))}`;
}

/** The order's plan in the page's language (the service's description is in English). @param {Order} order */
function orderTitle(order) {
  const plan = state.plans.find((p) => p.id === order.product_id);
  if (!plan) return order.description;
  return order.is_upgrade ? `${planName(plan)} · ${t('kind.upgrade')}` : planName(plan);
}

/** @param {number | null} level */
function levelName(level) {
  if (level === null) return '—';
  const plan = state.plans.find((p) => p.level === level);
  return (plan && tierOf(plan.code)) ?? t('level', { level });
}

/** @param {string} method */
const methodName = (method) => (method === 'wechat' || method === 'alipay' ? t(`method.${method}`) : method);
/** The other language's name, shown small, so both 微信支付 and WeChat Pay are recognised. @param {'wechat' | 'alipay'} method */
const methodOtherName = (method) => (currentLang() === 'zh'
  ? { wechat: 'WeChat Pay', alipay: 'Alipay' }[method]
  : { wechat: '微信支付', alipay: '支付宝' }[method]);

/** @param {'wechat' | 'alipay'} method @param {string} [extra] */
const mark = (method, extra = '') => h('img', { class: `mark ${extra}`, src: `/checkout/marks/${method}.svg`, alt: '', width: 32, height: 32 });

// ---- rendering ----

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
  renderProblem();
  renderBuy();
  renderPayment();
  renderMembership();
  renderOrders();
  renderLive();
}

/** Shows a new problem where the member is looking (on a phone the alert may be scrolled away). */
function showProblem() {
  render();
  byId('problem').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

function renderProblem() {
  const box = byId('problem');
  box.replaceChildren();
  if (!state.problem) {
    box.hidden = true;
    return;
  }
  const { error, method } = state.problem;
  const vars = { method: methodName(method ?? state.method) };
  let text = t('err.OTHER');
  let reference;
  if (error instanceof NetworkError) text = t('err.NETWORK');
  else if (error instanceof ApiError) {
    const key = /** @type {any} */ (`err.${error.code}`);
    text = t(key, vars) === key ? t('err.OTHER') : t(key, vars);
    reference = error.requestId;
  } else if (error === 'NO_TOKEN') text = t('err.NO_TOKEN');
  box.append(...present(
    h('p', {}, text),
    reference ? h('p', { class: 'reference' }, t('reference', { id: reference })) : null,
    h('button', { type: 'button', class: 'link', onclick: () => { state.problem = null; render(); } }, t('dismiss')),
  ));
  box.hidden = false;
}

function renderBuy() {
  const section = byId('buy');
  section.hidden = state.phase !== null;
  const plans = byId('plans');
  plans.replaceChildren();
  if (!state.quotes.length) plans.append(h('p', { class: 'muted' }, state.config ? t('noChoices') : t('loading')));
  for (const q of state.quotes) {
    const key = quoteKey(q);
    const id = `plan-${key.replace(':', '-')}`;
    const input = h('input', { type: 'radio', name: 'plan', id, value: key, class: 'choice-input', checked: key === state.choice });
    input.addEventListener('change', () => { state.choice = key; renderPayButton(); });
    const meta = q.kind === 'upgrade'
      ? t('upgradeMeta', { level: levelName(state.membership?.level ?? null) })
      : t('planMeta', { days: q.plan.duration_days, level: levelName(q.plan.level) });
    plans.append(h('label', { class: `choice plan kind-${q.kind}`, for: id },
      input,
      h('span', { class: 'plan-text' },
        h('span', { class: 'plan-name' }, planName(q.plan), ' ', h('span', { class: `badge badge-${q.kind}` }, t(`kind.${q.kind}`))),
        h('span', { class: 'plan-meta' }, meta)),
      h('span', { class: 'plan-price' },
        h('span', { class: 'price' }, yuan(q.amount)),
        q.amount !== q.plan.price ? h('span', { class: 'list-price' }, t('listPrice', { price: yuan(q.plan.price) })) : null),
    ));
  }
  const methods = byId('methods');
  methods.replaceChildren();
  const enabled = state.config?.payment_methods ?? [];
  if (!enabled.includes(state.method) && enabled.length) state.method = /** @type {any} */ (enabled[0]);
  for (const method of METHODS) {
    const id = `method-${method}`;
    const available = enabled.includes(method);
    const input = h('input', { type: 'radio', name: 'method', id, value: method, class: 'choice-input', checked: method === state.method, disabled: !available });
    input.addEventListener('change', () => { state.method = method; renderPayButton(); });
    methods.append(h('label', { class: `choice method method-${method}`, for: id },
      input, mark(method),
      h('span', { class: 'method-text' },
        h('span', { class: 'method-name' }, methodName(method)),
        h('span', { class: 'method-other', lang: currentLang() === 'zh' ? 'en' : 'zh-CN' }, available ? methodOtherName(method) : t('methodUnavailable')))));
  }
  renderPayButton();
}

function renderPayButton() {
  const button = /** @type {HTMLButtonElement} */ (byId('pay-button'));
  const quote = state.quotes.find((q) => quoteKey(q) === state.choice);
  button.disabled = state.busy || !quote || !state.config?.payment_methods.includes(state.method);
  button.setAttribute('aria-busy', String(state.busy));
  button.textContent = state.busy ? t('payBusy') : t('payButton', { amount: quote ? yuan(quote.amount) : '', method: methodName(state.method) });
  for (const label of document.querySelectorAll('.choice')) {
    const input = label.querySelector('input');
    label.classList.toggle('selected', !!input?.checked);
  }
}

function renderPayment() {
  const section = byId('payment');
  const order = state.current;
  section.hidden = !order || !state.phase;
  section.replaceChildren();
  if (!order || !state.phase) return;
  const summary = h('div', { class: 'pay-summary' },
    mark(order.payment_method, 'mark-large'),
    h('div', {},
      h('p', { class: 'pay-method' }, methodName(order.payment_method)),
      h('p', { class: 'pay-desc' }, orderTitle(order))),
    h('p', { class: 'pay-amount' }, h('span', { class: 'visually-hidden' }, `${t('amount')}: `), yuan(order.amount)));
  const orderLine = h('p', { class: 'order-no' }, `${t('orderNo')} `, h('code', {}, order.order_no));
  if (state.phase === 'qr' || state.phase === 'qr-expired') {
    const expired = state.phase === 'qr-expired';
    const payPage = state.config?.sandbox_pay_page[order.payment_method];
    const payUrl = payPage && order.qr_code_url ? `${payPage}?qr=${encodeURIComponent(order.qr_code_url)}` : null;
    const image = h('img', { class: 'qr-image', src: order.qr_code_image ?? '', alt: payUrl ? '' : t('qrAlt', { order: order.order_no }), width: 264, height: 264 });
    const qr = payUrl && !expired
      ? h('a', { class: 'qr', href: payUrl, target: '_blank', rel: 'noopener', 'aria-label': t('qrLinkLabel', { order: order.order_no }) }, image)
      : h('div', { class: `qr${expired ? ' qr-expired' : ''}` }, image);
    section.append(...present(
      h('h2', { id: 'payment-title', tabindex: -1 }, t('scanTitle')),
      summary,
      h('div', { class: 'qr-box' }, qr,
        expired
          ? h('p', { class: 'qr-expired-text' }, t('qrExpired'))
          : h('p', { class: 'countdown', role: 'timer', id: 'countdown' }, countdownText(order))),
      !expired ? h('p', { class: 'scan-hint' }, t(`scanHint.${order.payment_method}`)) : null,
      payUrl && !expired
        ? h('p', { class: 'sandbox-link' }, h('a', { href: payUrl, target: '_blank', rel: 'noopener' }, t('sandboxPay')), ' ', h('span', { class: 'muted' }, t('newTab')))
        : null,
      !expired ? h('p', { class: 'waiting' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('waiting')) : null,
      orderLine,
      h('div', { class: 'actions' },
        expired ? h('button', { type: 'button', class: 'primary', id: 'new-qr', onclick: newQr, disabled: state.busy }, t('newQr')) : null,
        h('button', { type: 'button', class: 'secondary', id: 'cancel-order', onclick: cancelOrder, disabled: state.busy }, t('cancel'))),
    ));
    return;
  }
  const m = state.membership;
  /** @type {Record<string, [string, string]>} */
  const texts = {
    paid: [t('paidTitle'), ''],
    expired: [t('expiredTitle'), t('expiredText')],
    closed: [t('closedTitle'), t('closedText')],
    failed: [t('failedTitle'), t('failedText')],
  };
  const [title, text] = texts[state.phase];
  const body = state.phase === 'paid' && m?.expires_at
    ? h('p', { class: 'result-text' }, ...paidSentence(m))
    : h('p', { class: 'result-text' }, text);
  section.append(
    h('div', { class: `result result-${state.phase}` },
      h('div', { class: 'result-icon', 'aria-hidden': 'true' }, state.phase === 'paid' ? '✓' : '!'),
      h('h2', { id: 'payment-title', tabindex: -1 }, title),
      body,
      summary,
      orderLine,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'done', onclick: backToPlans }, state.phase === 'paid' ? t('done') : t('startAgain')))),
  );
}

/** "…a Premium member until <time>": the date is a <time> element the browser test reads. @param {Membership} m */
function paidSentence(m) {
  const [before, after] = t('paidText', { level: levelName(m.level), date: '\u0000' }).split('\u0000');
  return [before, h('time', { id: 'paid-expires', datetime: m.expires_at ?? '' }, dateTime(currentLang(), m.expires_at)), after];
}

/** @param {Order} order */
function countdownText(order) {
  const left = (Date.parse(order.qr_code_expire_at ?? '') - serverNow()) / 1000;
  return t('expiresIn', { time: minutesSeconds(left) });
}

function renderMembership() {
  const box = byId('membership-body');
  box.replaceChildren();
  const m = state.membership;
  if (!m) {
    box.append(h('p', { class: 'muted' }, t('loading')));
    return;
  }
  const active = m.level !== null && !!m.expires_at && Date.parse(m.expires_at) > serverNow();
  if (!active) box.append(h('p', { class: 'muted', id: 'no-membership' }, t('noMembership')));
  else {
    box.append(h('div', { class: 'member-now' },
      h('span', { class: `level-badge level-${m.level}` }, levelName(m.level)),
      h('span', {}, t('validUntil', { date: '' }).trim().replace(/\s*$/, ''), ' ',
        h('time', { id: 'member-expires', datetime: m.expires_at ?? '' }, dateTime(currentLang(), m.expires_at)))));
  }
  const periods = m.periods ?? [];
  box.append(h('h3', {}, t('periodsTitle')));
  if (!periods.length) {
    box.append(h('p', { class: 'muted' }, t('noPeriods')));
    return;
  }
  box.append(h('ol', { class: 'periods', id: 'periods' }, ...periods.map((p) => h('li', { class: `period level-${p.level}` },
    h('span', { class: 'period-level' }, levelName(p.level)),
    h('span', { class: 'period-range' },
      h('time', { datetime: p.starts_at }, date(currentLang(), p.starts_at)), ' – ',
      h('time', { datetime: p.ends_at }, date(currentLang(), p.ends_at))),
    p.order_no ? h('span', { class: 'period-order muted' }, t('periodOrder', { order: p.order_no })) : null))));
}

function renderOrders() {
  const box = byId('orders-body');
  box.replaceChildren();
  if (!state.orders.length) {
    box.append(h('p', { class: 'muted' }, state.config ? t('noOrders') : t('loading')));
    return;
  }
  const head = h('tr', {}, ...['order', 'method', 'amount', 'refunded', 'status', 'created']
    .map((c) => h('th', { scope: 'col', class: c === 'amount' || c === 'refunded' ? 'num' : null }, t(/** @type {any} */ (`col.${c}`)))));
  const rows = state.orders.map((o) => h('tr', { 'data-order-no': o.order_no },
    h('td', { 'data-label': t('col.order') }, h('code', {}, o.order_no), h('br'), h('span', { class: 'muted' }, orderTitle(o))),
    h('td', { 'data-label': t('col.method') }, methodName(o.payment_method)),
    h('td', { 'data-label': t('col.amount'), class: 'num' }, yuan(o.amount)),
    h('td', { 'data-label': t('col.refunded'), class: 'num' }, o.refunded_amount ? yuan(o.refunded_amount) : '—'),
    h('td', { 'data-label': t('col.status') }, h('span', { class: `status status-${o.status}` }, statusName(o.status))),
    h('td', { 'data-label': t('col.created') }, dateTime(currentLang(), o.created_at))));
  box.append(h('table', { class: 'orders' }, h('caption', { class: 'visually-hidden' }, t('ordersTitle')), h('thead', {}, head), h('tbody', {}, ...rows)));
}

/** @param {string} status */
function statusName(status) {
  const key = /** @type {any} */ (`status.${status}`);
  const text = t(key);
  return text === key ? status : text;
}

function renderLive() {
  const el = byId('live');
  el.className = `live live-${state.live}`;
  el.textContent = t(/** @type {any} */ (`live.${state.live === 'live' ? 'on' : state.live === 'down' ? 'off' : 'connecting'}`));
}

/** Moves focus to the new state's heading, so keyboard and screen-reader users land on it. */
function focusPayment() {
  requestAnimationFrame(() => document.getElementById('payment-title')?.focus());
}

/** @param {string} text */
function announce(text) {
  byId('announcer').textContent = text;
}

// ---- actions ----

/** @param {SubmitEvent} event */
async function buy(event) {
  event.preventDefault();
  const quote = state.quotes.find((q) => quoteKey(q) === state.choice);
  if (!quote || state.busy) return;
  state.busy = true;
  state.problem = null;
  renderPayButton();
  try {
    const order = await api.post('/api/v1/payment/create-order', {
      product_type: 'membership', product_id: quote.plan.id, payment_method: state.method, is_upgrade: quote.is_upgrade,
    }, { 'Idempotency-Key': newIdempotencyKey() });
    showOrder(order);
    announce(t('scanTitle'));
    focusPayment();
    void refresh();
  } catch (e) {
    state.problem = { error: e, method: state.method };
    if (e instanceof ApiError && (e.code === 'PRODUCT_NOT_FOUND' || e.code === 'MEMBERSHIP_CONFLICT')) await refresh();
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
  return Date.parse(order.qr_code_expire_at ?? '') > serverNow() ? 'qr' : 'qr-expired';
}

async function newQr() {
  const order = state.current;
  if (!order || state.busy) return;
  state.busy = true;
  render();
  try {
    showOrder(await api.post(`/api/v1/payment/orders/${encodeURIComponent(order.order_no)}/qr-code`));
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

function backToPlans() {
  state.current = null;
  state.phase = null;
  render();
  requestAnimationFrame(() => byId('buy-title').focus());
}

// ---- events, polling and the countdown ----

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

// ---- start ----

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
    onState: (live) => { state.live = live; renderLive(); },
  });
  setInterval(tick, 1000);
  setInterval(() => { if (state.live !== 'live' && (state.phase === 'qr' || state.phase === 'qr-expired')) void pollOnce(); }, POLL_MS);
  render();
}

void start();
