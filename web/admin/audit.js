// @ts-check
// The audit log: every admin action, who, when, what, from which address and why. Read-only: the
// API has no route that changes an entry.

import { h } from './dom.js';
import { currentLang, t } from './i18n.js';
import { dateTime, yuan } from './format.js';
import { sectionHead, select, table } from './ui.js';

const ACTIONS = [
  'refund.requested',
  'reconciliation.item_resolved',
  'reconciliation.day_rerun',
  'reconciliation.exported',
  'auto_renewal.cancelled',
];

/** @param {any} e */
function what(e) {
  const d = e.detail ?? {};
  if (e.action === 'refund.requested') {
    return h(
      'span',
      {},
      h('a', { href: `#/order/${encodeURIComponent(e.target)}` }, e.target),
      ` · ${d.refund_no ?? ''} · ${yuan(d.amount)}`,
    );
  }
  if (e.action === 'auto_renewal.cancelled')
    return h('span', {}, h('a', { href: `#/member/${encodeURIComponent(e.target)}` }, e.target), ` · ${d.contract_no ?? ''}`);
  if (e.action === 'reconciliation.exported') return `${e.target} · ${t('rows', { n: d.rows ?? 0 })}`;
  if (e.action === 'reconciliation.item_resolved')
    return `${d.kind ?? ''} ${d.reference ?? e.target} (${t(/** @type {any} */ (`outcome.${d.outcome}`))})`;
  return e.target;
}

/** @param {import('./app.js').Ctx} ctx @param {URLSearchParams} params */
export async function renderAudit(ctx, params) {
  const lang = currentLang();
  const action = params.get('action') ?? '';
  const before = params.get('before');
  const query = new URLSearchParams({ limit: '50' });
  if (action) query.set('action', action);
  if (before) query.set('before', before);
  const list = await ctx.api.get(`/api/v1/admin/audit-log?${query}`);
  const form = h(
    'form',
    {
      class: 'filters card',
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        const value = /** @type {HTMLSelectElement} */ (document.getElementById('action')).value;
        ctx.go(value ? `#/audit?action=${encodeURIComponent(value)}` : '#/audit');
      },
    },
    select(
      'action',
      t('colAction'),
      ACTIONS.map((a) => [a, t(/** @type {any} */ (`audit.${a}`))]),
      action,
    ),
    h('button', { type: 'submit', class: 'secondary' }, t('filter')),
  );
  ctx.main.replaceChildren(
    ...sectionHead(t('auditTitle'), t('auditLead')).filter((x) => x !== null),
    form,
    h(
      'section',
      { class: 'card' },
      list.data.length
        ? table(
            t('auditTitle'),
            [t('colWhen'), t('colWho'), t('colAction'), t('colWhat'), t('colReason'), t('colAddress')],
            list.data.map((/** @type {any} */ e) => [
              h('time', { datetime: e.at }, dateTime(lang, e.at)),
              e.actor,
              h('span', { 'data-action': e.action }, t(/** @type {any} */ (`audit.${e.action}`))),
              what(e),
              e.reason ?? '—',
              e.client_address ?? '—',
            ]),
            'audit-table',
          )
        : h('p', { class: 'empty' }, t('noAudit')),
      list.has_more
        ? h(
            'p',
            {},
            h(
              'a',
              {
                class: 'button secondary',
                href: `#/audit?${new URLSearchParams({ ...(action ? { action } : {}), before: list.data[list.data.length - 1].id })}`,
              },
              t('nextPage'),
            ),
          )
        : null,
    ),
  );
}
