// @ts-check
// Pieces every section uses: copyable ids, status badges, tables, the names of providers and states.

import { h } from './dom.js';
import { t } from './i18n.js';

/**
 * A raw id (order, payment, provider trade number…) as selectable text with a copy button.
 * @param {string | null | undefined} value
 */
export function copyable(value) {
  if (!value) return h('span', { class: 'muted' }, '—');
  const button = h(
    'button',
    {
      type: 'button',
      class: 'copy',
      'aria-label': t('copyLabel', { value }),
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(value);
          button.textContent = t('copied');
        } catch {
          // No clipboard (plain http on another host): the text is selectable instead.
          const range = document.createRange();
          range.selectNodeContents(code);
          getSelection()?.removeAllRanges();
          getSelection()?.addRange(range);
        }
      },
    },
    t('copy'),
  );
  const code = h('code', {}, value);
  return h('span', { class: 'copyable' }, code, button);
}

/** @param {string | null | undefined} status */
export function badge(status) {
  if (!status) return h('span', { class: 'muted' }, '—');
  const key = /** @type {any} */ (`status.${status}`);
  const text = t(key);
  return h('span', { class: `badge badge-${status}` }, text === key ? status : text);
}

/** @param {string | null | undefined} method */
export function methodName(method) {
  if (!method) return '—';
  const key = /** @type {any} */ (`method.${method}`);
  const text = t(key);
  return text === key ? method : text;
}

/** @param {string | null | undefined} channel */
export function channelName(channel) {
  if (!channel) return '—';
  const key = /** @type {any} */ (`channel.${channel}`);
  const text = t(key);
  return text === key ? channel : text;
}

/**
 * A table with a caption for screen readers; on a phone it scrolls sideways in its own box.
 * @param {string} caption @param {string[]} headers @param {(Node | string)[][]} rows @param {string} [id]
 */
export function table(caption, headers, rows, id) {
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h(
      'table',
      { id },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
    ),
  );
}

/** A heading and an optional lead, as every section starts. @param {string} title @param {string} [lead] */
export function sectionHead(title, lead) {
  return [h('h1', { tabindex: '-1' }, title), lead ? h('p', { class: 'lead' }, lead) : null];
}

/** A select with an "any" option. @param {string} id @param {string} label @param {[string, string][]} options @param {string} value */
export function select(id, label, options, value) {
  return h(
    'label',
    { class: 'field' },
    h('span', {}, label),
    h(
      'select',
      { id, name: id },
      h('option', { value: '' }, t('any')),
      ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
    ),
  );
}
