// @ts-check
// An order's story: its summary, a timeline of everything that happened to it (from the support
// read model), and the refund form: full or an amount, a required reason, a confirmation that
// states the amount in yuan and what the member loses, one Idempotency-Key per confirmation, and
// the refund's state refreshed until it is final.

import { newIdempotencyKey } from './api.js';
import { errorText } from './app.js';
import { h } from './dom.js';
import { currentLang, t } from './i18n.js';
import { dateTime, parseYuan, yuan } from './format.js';
import { badge, channelName, copyable, methodName, table } from './ui.js';

const FINAL = ['success', 'failed', 'closed'];
const POLL_MS = 2000;

/** @param {string} label @param {Node | string} value */
const fact = (label, value) => h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value));

/** A contract's status in words. @param {string} status */
const contractStatus = (status) => t(/** @type {any} */ (`contract.${status}`));

/**
 * One timeline entry in words.
 * @param {any} e
 * @param {string} lang
 * @returns {{ title: string, body: (Node | string | null)[] }}
 */
function describe(e, lang) {
  const d = e.detail;
  switch (e.kind) {
    case 'order.created':
      return {
        title: t(d.is_upgrade ? 'tl.createdUpgrade' : 'tl.created', { plan: d.plan_name ?? d.plan_code ?? '?', amount: yuan(d.amount) }),
        body: [
          t('tl.createdDetail', { method: methodName(d.payment_method), channel: channelName(d.channel), price: yuan(d.plan_price) }),
          d.upgrade_shortfall ? h('span', { class: 'warn' }, t('tl.shortfall', { amount: yuan(d.upgrade_shortfall) })) : null,
          d.contract
            ? h(
                'span',
                {},
                d.contract.renewal_cycle
                  ? t('tl.renewsContract', { cycle: d.contract.renewal_cycle, status: contractStatus(d.contract.status) })
                  : t('tl.signsContract', { status: contractStatus(d.contract.status) }),
                ' ',
                copyable(d.contract.contract_no),
              )
            : null,
        ],
      };
    case 'attempt.opened':
      return {
        title: t('tl.opened', { method: methodName(d.payment_method), channel: channelName(d.channel) }),
        body: [
          h('span', {}, t('tl.paymentNo'), ' ', copyable(e.ref)),
          d.link ? h('span', {}, t('tl.link'), ' ', copyable(d.link)) : null,
          t('tl.openedDetail', { expires: dateTime(lang, d.expires_at), queries: d.query_count }),
        ],
      };
    case 'attempt.paid':
      return {
        title: t('tl.paid', { amount: yuan(d.amount), method: methodName(d.payment_method) }),
        body: [
          h('span', {}, t('tl.tradeNo'), ' ', copyable(d.transaction_id)),
          d.verified ? t('tl.verified', { state: d.trade_state ?? '' }) : t('tl.unverified'),
        ],
      };
    case 'attempt.closed':
      return { title: t('tl.closed', { payment: e.ref }), body: [d.trade_state ? `${d.trade_state}` : null] };
    case 'notification.refused': {
      // The rejection code always; its meaning in words when the console knows it.
      const key = /** @type {any} */ (`refusal.${d.reason}`);
      const meaning = t(key);
      return {
        title: t('tl.refused', { method: methodName(d.provider), reason: meaning === key ? d.reason : `${d.reason} · ${meaning}` }),
        body: [
          h('span', {}, t('tl.paymentNo'), ' ', copyable(e.ref)),
          h('span', { class: 'warn' }, t('tl.refusedDetail', { count: d.count, last: dateTime(lang, d.last_at) })),
        ],
      };
    }
    case 'membership.granted':
      return {
        title: t('tl.granted', { level: d.level, days: d.days ?? '?' }),
        body: [
          d.withdrawn_days ? t('tl.withdrawn', { days: d.withdrawn_days }) : null,
          ...(d.periods ?? []).map((/** @type {any} */ p) =>
            t('tl.period', { level: p.level, from: dateTime(lang, p.starts_at), to: dateTime(lang, p.ends_at) }),
          ),
        ],
      };
    case 'membership.revoked':
      return { title: t('tl.revoked'), body: [] };
    case 'refund.requested':
      return {
        title: t('tl.refundRequested', { amount: yuan(d.amount), who: d.requested_by }),
        body: [
          h('span', {}, t('tl.refundNo'), ' ', copyable(e.ref)),
          t('tl.reason', { reason: d.reason }),
          d.membership === 'keep' ? h('span', { class: 'warn' }, t('tl.keeps')) : null,
        ],
      };
    case 'refund.finished':
      return {
        title: t('tl.refundFinished', { amount: yuan(d.amount), status: t(/** @type {any} */ (`status.${d.status}`)) }),
        body: [
          h('span', {}, t('tl.refundNo'), ' ', copyable(e.ref)),
          d.provider_refund_id ? h('span', {}, t('tl.providerRefundId'), ' ', copyable(d.provider_refund_id)) : null,
          d.provider_state ? t('tl.providerState', { state: d.provider_state }) : null,
          d.failure_reason ? h('span', { class: 'warn' }, d.failure_reason) : null,
        ],
      };
    case 'event.sent':
      return {
        title: t('tl.event', { type: d.type }),
        body: [d.published_at ? t('tl.eventPushed', { at: dateTime(lang, d.published_at) }) : t('tl.eventStored')],
      };
    case 'reconciliation.item':
      return {
        title: t('tl.reconciled', {
          provider: methodName(d.provider),
          day: d.bill_date,
          outcome: t(/** @type {any} */ (`outcome.${d.outcome}`)),
        }),
        body: [
          d.action ? h('strong', {}, t(/** @type {any} */ (`action.${d.action}`))) : null,
          t('tl.amounts', { ours: yuan(d.local_amount), theirs: yuan(d.provider_amount) }),
          d.provider_trade_no ? h('span', {}, t('tl.tradeNo'), ' ', copyable(d.provider_trade_no)) : null,
          d.detail,
          d.open
            ? h('span', { class: 'warn' }, t('tl.open'))
            : d.resolution_note
              ? t('tl.resolved', { who: d.resolved_by, note: d.resolution_note })
              : null,
        ],
      };
    case 'admin.action':
      return {
        title: t('tl.admin', { who: d.actor, action: t(/** @type {any} */ (`audit.${d.action}`)) }),
        body: [t('tl.adminDetail', { address: d.client_address ?? '?', reason: d.reason ?? '—' })],
      };
    default:
      return { title: e.kind, body: [JSON.stringify(d)] };
  }
}

/** @param {import('./app.js').Ctx} ctx @param {string} orderNo */
export async function renderOrder(ctx, orderNo) {
  const lang = currentLang();
  const story = await ctx.api.get(`/api/v1/admin/orders/${encodeURIComponent(orderNo)}/timeline`);
  const o = story.order;
  const summary = h(
    'section',
    { class: 'card', 'aria-labelledby': 'order-title' },
    h('h1', { id: 'order-title', tabindex: '-1' }, t('orderTitle', { order: o.order_no })),
    h(
      'dl',
      { class: 'facts' },
      fact(t('colOrder'), copyable(o.order_no)),
      fact(t('colStatus'), h('span', { id: 'order-status' }, badge(o.status))),
      fact(t('colUser'), h('a', { href: `#/member/${encodeURIComponent(o.user_id)}` }, o.user_id)),
      fact(t('colPlan'), `${o.plan_name ?? o.plan_code ?? '—'}${o.is_upgrade ? ` · ${t('upgrade')}` : ''}`),
      fact(t('colAmount'), yuan(o.amount)),
      fact(t('colRefunded'), h('span', { id: 'order-refunded' }, yuan(o.refunded_amount))),
      fact(t('colMethod'), `${methodName(o.payment_method)} · ${channelName(o.channel)}`),
      fact(t('colPaymentNo'), copyable(o.payment_no)),
      fact(t('colTradeNo'), copyable(o.transaction_id)),
      fact(t('colCreated'), dateTime(lang, o.created_at)),
      fact(t('colPaid'), dateTime(lang, o.paid_at)),
    ),
  );
  const timeline = h(
    'section',
    { class: 'card', 'aria-labelledby': 'timeline-title' },
    h('h2', { id: 'timeline-title' }, t('timelineTitle')),
    h(
      'ol',
      { class: 'timeline', id: 'timeline' },
      ...story.timeline.map((/** @type {any} */ e) => {
        const { title, body } = describe(e, lang);
        return h(
          'li',
          { class: `tl tl-${e.kind.replace('.', '-')}`, 'data-kind': e.kind },
          h('time', { datetime: e.at }, dateTime(lang, e.at)),
          h('div', { class: 'tl-body' }, h('p', { class: 'tl-title' }, title), ...body.filter(Boolean).map((b) => h('p', {}, b))),
        );
      }),
    ),
    h('p', { class: 'muted small' }, t('timelineNote')),
  );
  const refunds = h(
    'section',
    { class: 'card', 'aria-labelledby': 'refunds-title' },
    h('h2', { id: 'refunds-title' }, t('refundsTitle')),
    story.refunds.length
      ? table(
          t('refundsTitle'),
          [t('colRefundNo'), t('colAmount'), t('colStatus'), t('colProviderState'), t('colReason'), t('colBy'), t('colCreated')],
          story.refunds.map((/** @type {any} */ r) => [
            copyable(r.refund_no),
            yuan(r.amount),
            h('span', { 'data-refund-status': r.refund_no }, badge(r.status)),
            r.failure_reason ? `${r.provider_state ?? '—'} · ${r.failure_reason}` : (r.provider_state ?? '—'),
            r.reason,
            r.requested_by,
            dateTime(lang, r.created_at),
          ]),
          'refunds-table',
        )
      : h('p', { class: 'empty' }, t('noRefunds')),
  );
  ctx.main.replaceChildren(
    h('p', { class: 'back' }, h('a', { href: '#/find' }, t('backToFind'))),
    h(
      'div',
      { class: 'order-layout' },
      h('div', { class: 'order-main' }, summary, timeline),
      h('div', { class: 'order-side' }, refundPanel(ctx, story), refunds),
    ),
  );
  // A refund still under way is followed until it ends, wherever it was started.
  const pending = story.refunds.filter((/** @type {any} */ r) => !FINAL.includes(r.status));
  if (pending.length) follow(ctx, orderNo, signature(story));
}

/**
 * Reads the order every POLL_MS while a refund of it is not final (the provider's answer, its
 * notification or the refund job moves it on), and shows it again when something changed.
 * @param {import('./app.js').Ctx} ctx @param {string} orderNo @param {string} seen
 */
function follow(ctx, orderNo, seen) {
  let stopped = false;
  const timer = setTimeout(async () => {
    if (stopped) return;
    try {
      const story = await ctx.api.get(`/api/v1/admin/orders/${encodeURIComponent(orderNo)}/timeline`);
      if (stopped) return;
      if (signature(story) === seen) return follow(ctx, orderNo, seen);
      const last = story.refunds[story.refunds.length - 1];
      if (last && FINAL.includes(last.status))
        ctx.announce(t('refundFinal', { refund: last.refund_no, status: t(/** @type {any} */ (`status.${last.status}`)) }));
      await renderOrder(ctx, orderNo);
    } catch (e) {
      ctx.fail(e);
    }
  }, POLL_MS);
  ctx.onLeave(() => {
    stopped = true;
    clearTimeout(timer);
  });
}

/** What following a refund watches: the order's state and each refund's. @param {any} story */
const signature = (story) =>
  JSON.stringify([story.order.status, story.order.refunded_amount, story.refunds.map((/** @type {any} */ r) => r.status)]);

/** @param {import('./app.js').Ctx} ctx @param {any} story */
function refundPanel(ctx, story) {
  const o = story.order;
  const left = story.refundable;
  if (!left) {
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'refund-title' },
      h('h2', { id: 'refund-title' }, t('refundTitle')),
      h(
        'p',
        { class: 'muted' },
        o.status === 'refunded' || o.refunded_amount
          ? t('nothingLeft')
          : t('notRefundable', { status: t(/** @type {any} */ (`status.${o.status}`)) }),
      ),
    );
  }
  const error = h('p', { class: 'form-error', role: 'alert', id: 'refund-error' });
  const amount = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'refund-amount',
      name: 'amount',
      inputmode: 'decimal',
      autocomplete: 'off',
      disabled: true,
      'aria-describedby': 'refund-amount-hint',
    })
  );
  const reason = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { id: 'refund-reason', name: 'reason', rows: 2, maxlength: 256, required: true })
  );
  const withdraw = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: 'membership', value: 'withdraw', checked: true }));
  const keep = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: 'membership', value: 'keep' }));
  const full = /** @type {HTMLInputElement} */ (
    h('input', { type: 'radio', name: 'scope', value: 'full', id: 'scope-full', checked: true })
  );
  const part = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: 'scope', value: 'part', id: 'scope-part' }));
  const sync = () => {
    amount.disabled = full.checked;
    if (!full.checked) amount.focus();
  };
  full.addEventListener('change', sync);
  part.addEventListener('change', sync);

  const form = h(
    'form',
    {
      class: 'stack',
      id: 'refund-form',
      novalidate: true,
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        error.textContent = '';
        const fen = full.checked ? left : parseYuan(amount.value);
        if (fen === null || fen <= 0 || fen > left) {
          error.textContent = t('amountInvalid', { max: yuan(left) });
          amount.focus();
          return;
        }
        if (!reason.value.trim()) {
          error.textContent = t('reasonRequired');
          reason.focus();
          return;
        }
        confirmRefund(ctx, story, fen, reason.value.trim(), full.checked, keep.checked);
      },
    },
    h(
      'fieldset',
      {},
      h('legend', {}, t('refundScope')),
      h('label', { class: 'inline' }, full, ' ', t('refundFull', { amount: yuan(left) })),
      h('label', { class: 'inline' }, part, ' ', t('refundPart')),
    ),
    h('label', { for: 'refund-amount' }, t('refundAmount')),
    amount,
    h('p', { class: 'muted small', id: 'refund-amount-hint' }, t('refundAmountHint', { max: yuan(left) })),
    h('label', { for: 'refund-reason' }, t('refundReason')),
    reason,
    h(
      'fieldset',
      {},
      h('legend', {}, t('refundMembership')),
      h('label', { class: 'inline' }, withdraw, ' ', t('membershipWithdraw')),
      h('label', { class: 'inline' }, keep, ' ', t('membershipKeep')),
    ),
    h('button', { type: 'submit', class: 'danger', id: 'refund-button' }, t('refundButton')),
    error,
  );
  return h('section', { class: 'card', 'aria-labelledby': 'refund-title' }, h('h2', { id: 'refund-title' }, t('refundTitle')), form);
}

/**
 * The confirmation: states the amount in yuan and what the member loses. The Idempotency-Key is
 * made when it opens: pressing Confirm twice, or retrying after a lost answer, is one refund.
 * @param {import('./app.js').Ctx} ctx @param {any} story @param {number} fen @param {string} reason @param {boolean} whole
 * @param {boolean} keepDays the member keeps the days (a concession) instead of losing what the refund paid for
 */
function confirmRefund(ctx, story, fen, reason, whole, keepDays) {
  const o = story.order;
  const key = newIdempotencyKey();
  // What the refunds hold plus this one is the whole payment: all the order's days go; otherwise the
  // days this amount paid for, unless support lets the member keep them.
  const loses = keepDays ? t('losesNothing') : whole || fen === story.refundable ? t('losesAll') : t('losesPart', { amount: yuan(fen) });
  const status = h('p', { role: 'status', class: 'muted', id: 'confirm-status' });
  const confirm = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'danger', id: 'confirm-refund' }, t('confirmButton', { amount: yuan(fen) }))
  );
  const cancel = h('button', { type: 'button', class: 'secondary', id: 'cancel-refund' }, t('cancel'));
  const dialog = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
      h('h2', { id: 'confirm-title' }, t('confirmTitle')),
      h(
        'div',
        { id: 'confirm-text' },
        h(
          'p',
          { class: 'confirm-amount' },
          t('confirmAmount', { amount: yuan(fen), method: methodName(o.payment_method), user: o.user_id }),
        ),
        h('p', {}, t('confirmOrder', { order: o.order_no })),
        h('p', {}, t('confirmReason', { reason })),
        h('p', { class: 'warn' }, loses),
      ),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
      status,
    )
  );
  let sending = false;
  confirm.addEventListener('click', async () => {
    if (sending) return; // the same key would make it one refund anyway; this saves the request
    sending = true;
    confirm.disabled = true;
    status.textContent = t('refundSending');
    try {
      const body = { reason, ...(whole ? {} : { amount: fen }), ...(keepDays ? { membership: 'keep' } : {}) };
      const refund = await ctx.api.post(`/api/v1/admin/orders/${encodeURIComponent(o.order_no)}/refunds`, body, { 'Idempotency-Key': key });
      dialog.close();
      dialog.remove();
      ctx.announce(t('refundAccepted', { refund: refund.refund_no, status: t(/** @type {any} */ (`status.${refund.status}`)) }));
      await renderOrder(ctx, o.order_no);
    } catch (e) {
      sending = false;
      confirm.disabled = false;
      status.textContent = errorText(e);
    }
  });
  cancel.addEventListener('click', () => {
    dialog.close();
    dialog.remove();
    document.getElementById('refund-button')?.focus();
  });
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  cancel.focus();
}
