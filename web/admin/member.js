// @ts-check
// A member: the level now, every period (past, current, future), their orders and refunds, and the
// place where the auto-renewal contract will be shown once auto-renewal exists.

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
    h(
      'section',
      { class: 'card placeholder', 'aria-labelledby': 'renewal-title', id: 'auto-renewal', 'data-placeholder': 'auto-renewal' },
      h('h2', { id: 'renewal-title' }, t('renewalTitle')),
      h('p', { class: 'muted' }, m.auto_renewal ? JSON.stringify(m.auto_renewal) : t('renewalPlaceholder')),
    ),
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
