// @ts-check
// The side of the page: the membership and its periods, the orders, problems and the live-update state.
import { ApiError, NetworkError, serverNow } from './api.js';
import { byId, h, present } from './dom.js';
import { date, dateTime, yuan } from './format.js';
import { currentLang, t } from './i18n.js';
import { levelName, methodName, orderTitle, statusName } from './names.js';
import { state } from './state.js';

/** @param {() => void} onDismiss */
export function renderProblem(onDismiss) {
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
  box.append(
    ...present(
      h('p', {}, text),
      reference ? h('p', { class: 'reference' }, t('reference', { id: reference })) : null,
      h('button', { type: 'button', class: 'link', onclick: onDismiss }, t('dismiss')),
    ),
  );
  box.hidden = false;
}

/** @param {{ cancelAutoRenew: () => void }} actions */
export function renderMembership(actions) {
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
    box.append(
      h(
        'div',
        { class: 'member-now' },
        h('span', { class: `level-badge level-${m.level}` }, levelName(m.level)),
        h(
          'span',
          {},
          t('validUntil', { date: '' }).trim().replace(/\s*$/, ''),
          ' ',
          h('time', { id: 'member-expires', datetime: m.expires_at ?? '' }, dateTime(currentLang(), m.expires_at)),
        ),
      ),
    );
  }
  const periods = m.periods ?? [];
  box.append(h('h3', {}, t('periodsTitle')));
  if (!periods.length) box.append(h('p', { class: 'muted' }, t('noPeriods')));
  else box.append(periodList(periods));
  if (m.auto_renew) box.append(autoRenewSection(m.auto_renew, actions));
}

/**
 * The member's contract: what it charges and when, and the button that cancels it while it renews.
 * @param {import('./state.js').AutoRenew} c @param {{ cancelAutoRenew: () => void }} actions
 */
function autoRenewSection(c, actions) {
  const plan = state.plans.find((p) => p.code === c.plan_code);
  const vars = { price: yuan(c.amount), days: plan?.duration_days ?? '—', method: methodName(c.provider) };
  const open = c.status === 'pending' || c.status === 'active' || c.status === 'past_due';
  return h(
    'section',
    { class: `auto-renew-status auto-renew-${c.status}`, id: 'auto-renew-status', 'aria-labelledby': 'auto-renew-title' },
    h('h3', { id: 'auto-renew-title' }, t('autoRenewTitle')),
    h('p', { id: 'auto-renew-state' }, t(/** @type {any} */ (`autoRenewStatus.${c.status}`), vars)),
    c.next_renewal_at
      ? h(
          'p',
          { class: 'muted' },
          t('autoRenewNext', { date: '' }).trim(),
          ' ',
          h('time', { id: 'auto-renew-next', datetime: c.next_renewal_at }, date(currentLang(), c.next_renewal_at)),
        )
      : null,
    c.grace_ends_at ? h('p', { class: 'muted' }, t('autoRenewGrace', { date: date(currentLang(), c.grace_ends_at) })) : null,
    open
      ? h(
          'button',
          { type: 'button', class: 'secondary', id: 'cancel-auto-renew', onclick: actions.cancelAutoRenew, disabled: state.busy },
          state.busy ? t('cancelAutoRenewBusy') : t('cancelAutoRenew'),
        )
      : null,
  );
}

/** @param {import('./state.js').Period[]} periods */
function periodList(periods) {
  return h(
    'ol',
    { class: 'periods', id: 'periods' },
    ...periods.map((p) =>
      h(
        'li',
        { class: `period level-${p.level}` },
        h('span', { class: 'period-level' }, levelName(p.level)),
        h(
          'span',
          { class: 'period-range' },
          h('time', { datetime: p.starts_at }, date(currentLang(), p.starts_at)),
          ' – ',
          h('time', { datetime: p.ends_at }, date(currentLang(), p.ends_at)),
        ),
        p.order_no ? h('span', { class: 'period-order muted' }, t('periodOrder', { order: p.order_no })) : null,
      ),
    ),
  );
}

export function renderOrders() {
  const box = byId('orders-body');
  box.replaceChildren();
  if (!state.orders.length) {
    box.append(h('p', { class: 'muted' }, state.config ? t('noOrders') : t('loading')));
    return;
  }
  const head = h(
    'tr',
    {},
    ...['order', 'method', 'amount', 'refunded', 'status', 'created'].map((c) =>
      h('th', { scope: 'col', class: c === 'amount' || c === 'refunded' ? 'num' : null }, t(/** @type {any} */ (`col.${c}`))),
    ),
  );
  const rows = state.orders.map((o) =>
    h(
      'tr',
      { 'data-order-no': o.order_no },
      h('td', { 'data-label': t('col.order') }, h('code', {}, o.order_no), h('br'), h('span', { class: 'muted' }, orderTitle(o))),
      h('td', { 'data-label': t('col.method') }, methodName(o.payment_method)),
      h('td', { 'data-label': t('col.amount'), class: 'num' }, yuan(o.amount)),
      h('td', { 'data-label': t('col.refunded'), class: 'num' }, o.refunded_amount ? yuan(o.refunded_amount) : '—'),
      h('td', { 'data-label': t('col.status') }, h('span', { class: `status status-${o.status}` }, statusName(o.status))),
      h('td', { 'data-label': t('col.created') }, dateTime(currentLang(), o.created_at)),
    ),
  );
  box.append(
    h(
      'table',
      { class: 'orders' },
      h('caption', { class: 'visually-hidden' }, t('ordersTitle')),
      h('thead', {}, head),
      h('tbody', {}, ...rows),
    ),
  );
}

export function renderLive() {
  const el = byId('live');
  el.className = `live live-${state.live}`;
  el.textContent = t(/** @type {any} */ (`live.${state.live === 'live' ? 'on' : state.live === 'down' ? 'off' : 'connecting'}`));
}
