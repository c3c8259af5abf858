// @ts-check
// Find: one search box for any number (order, payment, WeChat transaction_id / Alipay trade_no,
// refund, user id) and filters, with pages. The query lives in the address, so Back works.

import { h, present } from './dom.js';
import { currentLang, t } from './i18n.js';
import { beijingStart, dateTime, yuan } from './format.js';
import { badge, channelName, copyable, methodName, sectionHead, select, table } from './ui.js';

const STATUSES = ['pending', 'paid', 'partially_refunded', 'refunded', 'expired', 'closed', 'failed'];
const CHANNELS = ['qr', 'app', 'h5', 'jsapi', 'wap', 'page'];

/** @param {import('./app.js').Ctx} ctx @param {URLSearchParams} params */
export async function renderFind(ctx, params) {
  const lang = currentLang();
  const q = params.get('q') ?? '';
  const query = h('input', {
    id: 'q',
    name: 'q',
    type: 'search',
    value: q,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'q-hint',
    placeholder: t('searchPlaceholder'),
  });
  const form = h(
    'form',
    {
      class: 'search card',
      role: 'search',
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        const data = new FormData(/** @type {HTMLFormElement} */ (e.target));
        const next = new URLSearchParams();
        for (const [k, v] of data) if (String(v).trim()) next.set(k, String(v).trim());
        ctx.go(`#/find?${next}`);
      },
    },
    h(
      'div',
      { class: 'search-row' },
      h('label', { for: 'q', class: 'visually-hidden' }, t('searchLabel')),
      query,
      h('button', { type: 'submit', class: 'primary' }, t('search')),
    ),
    h('p', { class: 'muted', id: 'q-hint' }, t('searchHint')),
    h(
      'div',
      { class: 'filters' },
      select(
        'status',
        t('filterStatus'),
        STATUSES.map((s) => [s, t(/** @type {any} */ (`status.${s}`))]),
        params.get('status') ?? '',
      ),
      select(
        'provider',
        t('filterProvider'),
        ctx.methods.map((m) => [m, methodName(m)]),
        params.get('provider') ?? '',
      ),
      select(
        'channel',
        t('filterChannel'),
        CHANNELS.map((c) => [c, channelName(c)]),
        params.get('channel') ?? '',
      ),
      h(
        'label',
        { class: 'field' },
        h('span', {}, t('filterFrom')),
        h('input', { type: 'date', name: 'from', value: params.get('from') ?? '' }),
      ),
      h('label', { class: 'field' }, h('span', {}, t('filterTo')), h('input', { type: 'date', name: 'to', value: params.get('to') ?? '' })),
    ),
  );
  const results = h('section', { class: 'card', 'aria-labelledby': 'results-title', id: 'results' });
  ctx.main.replaceChildren(...sectionHead(t('findTitle')).filter((x) => x !== null), form, results);

  const api = new URLSearchParams();
  for (const k of ['q', 'status', 'provider', 'channel', 'starting_after']) {
    const v = params.get(k);
    if (v) api.set(k, v);
  }
  const from = params.get('from');
  const to = params.get('to');
  if (from) api.set('from', beijingStart(from));
  // "to" is a day, inclusive: orders created before the start of the day after.
  if (to) api.set('to', new Date(new Date(beijingStart(to)).getTime() + 86_400_000).toISOString());
  api.set('limit', '20');
  const searched = [...api.keys()].some((k) => k !== 'limit');
  const list = await ctx.api.get(`/api/v1/admin/search?${api}`);
  const rows = list.data.map((/** @type {any} */ o) => [
    h('a', { href: `#/order/${encodeURIComponent(o.order_no)}`, class: 'order-link' }, o.order_no),
    h('a', { href: `#/member/${encodeURIComponent(o.user_id)}` }, o.user_id),
    badge(o.status),
    yuan(o.amount),
    o.refunded_amount ? yuan(o.refunded_amount) : '—',
    `${methodName(o.payment_method)} · ${channelName(o.channel)}`,
    copyable(o.transaction_id),
    dateTime(lang, o.created_at),
    o.matched_by ? t(/** @type {any} */ (`matched.${o.matched_by}`)) : '—',
  ]);
  results.replaceChildren(
    ...present(
      h('h2', { id: 'results-title' }, searched ? t('resultsTitle', { n: list.data.length }) : t('latestTitle')),
      list.data.length
        ? table(
            t('resultsTitle', { n: list.data.length }),
            [
              t('colOrder'),
              t('colUser'),
              t('colStatus'),
              t('colAmount'),
              t('colRefunded'),
              t('colMethod'),
              t('colTradeNo'),
              t('colCreated'),
              t('colMatched'),
            ],
            rows,
            'results-table',
          )
        : h('p', { class: 'empty' }, t('noResults')),
      list.has_more
        ? h(
            'p',
            {},
            h(
              'a',
              {
                class: 'button secondary',
                href: `#/find?${new URLSearchParams({ ...Object.fromEntries(params), starting_after: list.data[list.data.length - 1].order_no })}`,
              },
              t('nextPage'),
            ),
          )
        : null,
    ),
  );
  ctx.announce(searched ? t('resultsTitle', { n: list.data.length }) : t('latestTitle'));
}
