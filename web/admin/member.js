// @ts-check
// A member: the level now, every period (past, current, future), their orders and refunds, and their
// auto-renewal contract with a cancel button (a required reason, then a confirmation).

import { errorText } from './app.js';
import { h } from './dom.js';
import { currentLang, t } from './i18n.js';
import { dateTime, yuan } from './format.js';
import { badge, channelName, copyable, methodName, table } from './ui.js';

/** @param {import('./app.js').Ctx} ctx @param {string} userId */
export async function renderMember(ctx, userId) {
  const lang = currentLang();
  const m = await ctx.api.get(`/api/v1/admin/members/${encodeURIComponent(userId)}`);
  ctx.main.replaceChildren(
    h('p', { class: 'back' }, h('a', { href: '#/find' }, t('backToFind'))),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'member-title' },
      h('h1', { id: 'member-title', tabindex: '-1' }, t('memberTitle', { user: m.user_id })),
      h(
        'dl',
        { class: 'facts' },
        h(
          'div',
          { class: 'fact' },
          h('dt', {}, t('colLevel')),
          h('dd', { id: 'member-level' }, m.level ? t('levelN', { level: m.level }) : t('noLevel')),
        ),
        h('div', { class: 'fact' }, h('dt', {}, t('colExpires')), h('dd', {}, dateTime(lang, m.expires_at))),
        h(
          'div',
          { class: 'fact' },
          h('dt', {}, t('colUser')),
          h('dd', {}, copyable(m.user_id), ' ', h('a', { href: `#/find?q=${encodeURIComponent(m.user_id)}` }, t('allOrders'))),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'periods-title' },
      h('h2', { id: 'periods-title' }, t('periodsTitle')),
      m.periods.length
        ? table(
            t('periodsTitle'),
            [t('colState'), t('colLevel'), t('colPlan'), t('colFrom'), t('colUntil'), t('colOrder')],
            m.periods.map((/** @type {any} */ p) => [
              h('span', { class: `badge badge-period-${p.state}` }, t(/** @type {any} */ (`period.${p.state}`))),
              t('levelN', { level: p.level }),
              p.plan_code ?? '—',
              dateTime(lang, p.starts_at),
              dateTime(lang, p.ends_at),
              p.order_no ? h('a', { href: `#/order/${encodeURIComponent(p.order_no)}` }, p.order_no) : '—',
            ]),
            'periods-table',
          )
        : h('p', { class: 'empty' }, t('noPeriods')),
    ),
    contractCard(ctx, m),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'member-orders-title' },
      h('h2', { id: 'member-orders-title' }, t('ordersTitle')),
      m.orders.length
        ? table(
            t('ordersTitle'),
            [t('colOrder'), t('colStatus'), t('colAmount'), t('colRefunded'), t('colMethod'), t('colCreated')],
            m.orders.map((/** @type {any} */ o) => [
              h('a', { href: `#/order/${encodeURIComponent(o.order_no)}` }, o.order_no),
              badge(o.status),
              yuan(o.amount),
              o.refunded_amount ? yuan(o.refunded_amount) : '—',
              `${methodName(o.payment_method)} · ${channelName(o.channel)}`,
              dateTime(lang, o.created_at),
            ]),
            'member-orders',
          )
        : h('p', { class: 'empty' }, t('noResults')),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'member-refunds-title' },
      h('h2', { id: 'member-refunds-title' }, t('refundsTitle')),
      m.refunds.length
        ? table(
            t('refundsTitle'),
            [t('colRefundNo'), t('colOrder'), t('colAmount'), t('colStatus'), t('colReason'), t('colCreated')],
            m.refunds.map((/** @type {any} */ r) => [
              copyable(r.refund_no),
              h('a', { href: `#/order/${encodeURIComponent(r.order_no)}` }, r.order_no),
              yuan(r.amount),
              badge(r.status),
              r.reason,
              dateTime(lang, r.created_at),
            ]),
          )
        : h('p', { class: 'empty' }, t('noRefunds')),
    ),
  );
}

const OPEN = ['pending', 'active', 'past_due'];

/** @param {string} label @param {Node | string} value */
const fact = (label, value) => h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value));

/**
 * The member's latest auto-renewal contract: its state, provider, plan, amount, the provider's id,
 * when it was signed and ended and by whom; for an open one, the cancel form (a required reason).
 * @param {import('./app.js').Ctx} ctx @param {any} m
 */
function contractCard(ctx, m) {
  const lang = currentLang();
  const c = m.auto_renewal;
  const title = h('h2', { id: 'renewal-title' }, t('renewalTitle'));
  if (!c)
    return h(
      'section',
      { class: 'card', 'aria-labelledby': 'renewal-title', id: 'auto-renewal' },
      title,
      h('p', { class: 'muted' }, t('noContract')),
    );
  const plan = (lang === 'zh' ? c.plan_name_zh : null) ?? c.plan_name ?? c.plan_code ?? String(c.plan_id);
  const facts = h(
    'dl',
    { class: 'facts' },
    fact(
      t('colStatus'),
      h('span', { id: 'contract-status', class: `badge badge-contract-${c.status}` }, t(/** @type {any} */ (`contract.${c.status}`))),
    ),
    fact(t('colMethod'), methodName(c.provider)),
    fact(t('colPlan'), plan),
    fact(t('contractAmount'), yuan(c.amount)),
    fact(t('contractNo'), copyable(c.contract_no)),
    fact(t('providerContractId'), copyable(c.provider_contract_id)),
    fact(t('contractSigned'), dateTime(lang, c.signed_at)),
    fact(t('contractEnded'), c.ended_at ? `${dateTime(lang, c.ended_at)} · ${t(/** @type {any} */ (`endedBy.${c.ended_by}`))}` : '—'),
  );
  if (!OPEN.includes(c.status))
    return h('section', { class: 'card', 'aria-labelledby': 'renewal-title', id: 'auto-renewal' }, title, facts);

  const error = h('p', { class: 'form-error', role: 'alert', id: 'contract-error' });
  const reason = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { id: 'contract-reason', name: 'reason', rows: 2, maxlength: 256, required: true })
  );
  const form = h(
    'form',
    {
      class: 'stack',
      id: 'contract-cancel-form',
      novalidate: true,
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        error.textContent = '';
        if (!reason.value.trim()) {
          error.textContent = t('reasonRequired');
          reason.focus();
          return;
        }
        confirmCancel(ctx, m, reason.value.trim(), plan);
      },
    },
    h('label', { for: 'contract-reason' }, t('contractCancelReason')),
    reason,
    h('button', { type: 'submit', class: 'danger', id: 'contract-cancel' }, t('contractCancel')),
    error,
  );
  return h('section', { class: 'card', 'aria-labelledby': 'renewal-title', id: 'auto-renewal' }, title, facts, form);
}

/**
 * The confirmation: what ends (no more renewals at the provider) and what stays (the periods paid).
 * @param {import('./app.js').Ctx} ctx @param {any} m @param {string} reason @param {string} plan
 */
function confirmCancel(ctx, m, reason, plan) {
  const c = m.auto_renewal;
  const status = h('p', { role: 'status', class: 'muted', id: 'contract-confirm-status' });
  const confirm = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'danger', id: 'confirm-contract-cancel' }, t('contractConfirmButton'))
  );
  const back = h('button', { type: 'button', class: 'secondary', id: 'keep-contract' }, t('contractKeep'));
  const dialog = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'contract-confirm-title', 'aria-describedby': 'contract-confirm-text' },
      h('h2', { id: 'contract-confirm-title' }, t('contractConfirmTitle')),
      h(
        'div',
        { id: 'contract-confirm-text' },
        h(
          'p',
          { class: 'confirm-amount' },
          t('contractConfirmText', { user: m.user_id, method: methodName(c.provider), plan, amount: yuan(c.amount) }),
        ),
        h('p', {}, t('confirmReason', { reason })),
        h('p', { class: 'warn' }, t('contractConfirmKeeps')),
      ),
      h('div', { class: 'dialog-actions' }, back, confirm),
      status,
    )
  );
  let sending = false;
  confirm.addEventListener('click', async () => {
    if (sending) return; // cancelling twice is harmless (an ended contract is answered as it is); this saves the request
    sending = true;
    confirm.disabled = true;
    status.textContent = t('contractCancelling');
    try {
      const ended = await ctx.api.post(`/api/v1/admin/members/${encodeURIComponent(m.user_id)}/auto-renew/cancel`, { reason });
      dialog.close();
      dialog.remove();
      ctx.announce(t('contractCancelled', { status: t(/** @type {any} */ (`contract.${ended.status}`)) }));
      await renderMember(ctx, m.user_id);
    } catch (e) {
      sending = false;
      confirm.disabled = false;
      status.textContent = errorText(e);
    }
  });
  back.addEventListener('click', () => {
    dialog.close();
    dialog.remove();
    document.getElementById('contract-cancel')?.focus();
  });
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  back.focus();
}
