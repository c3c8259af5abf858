// @ts-check
// Names as the member reads them, in the page's language: plans, levels, payment methods, statuses.
import { h } from './dom.js';
import { currentLang, t } from './i18n.js';
import { state } from './state.js';

/** @typedef {import('./state.js').Plan} Plan */
/** @typedef {import('./state.js').Quote} Quote */
/** @typedef {import('./state.js').Order} Order */

/** @param {Quote} q */
export const quoteKey = (q) => `${q.plan.id}:${q.is_upgrade}`;

/** @param {string} code */
export function tierOf(code) {
  const tier = code.split('_')[0];
  return tier === 'basic' || tier === 'premium' ? t(`tier.${tier}`) : null;
}

/** @param {Plan} plan */
export function planName(plan) {
  const term = plan.code.split('_')[1];
  const tierName = tierOf(plan.code);
  if (!tierName || !['monthly', 'quarterly', 'yearly'].includes(term))
    return currentLang() === 'zh' && plan.name_zh ? plan.name_zh : plan.name;
  return currentLang() === 'zh'
    ? `${tierName} · ${t(/** @type {any} */ (`term.${term}`))}`
    : `${tierName}, ${t(/** @type {any} */ (`term.${term}`))}`;
}

/** The order's plan in the page's language (the service's description is in English). @param {Order} order */
export function orderTitle(order) {
  const plan = state.plans.find((p) => p.id === order.product_id);
  if (!plan) return order.description;
  return order.is_upgrade ? `${planName(plan)} · ${t('kind.upgrade')}` : planName(plan);
}

/** @param {number | null} level */
export function levelName(level) {
  if (level === null) return '—';
  const plan = state.plans.find((p) => p.level === level);
  return (plan && tierOf(plan.code)) ?? t('level', { level });
}

/** @param {string} method */
export const methodName = (method) => (method === 'wechat' || method === 'alipay' ? t(`method.${method}`) : method);
/** The other language's name, shown small, so both 微信支付 and WeChat Pay are recognised. @param {'wechat' | 'alipay'} method */
export const methodOtherName = (method) =>
  currentLang() === 'zh' ? { wechat: 'WeChat Pay', alipay: 'Alipay' }[method] : { wechat: '微信支付', alipay: '支付宝' }[method];

/** @param {'wechat' | 'alipay'} method @param {string} [extra] */
export const mark = (method, extra = '') =>
  h('img', { class: `mark ${extra}`, src: `/checkout/marks/${method}.svg`, alt: '', width: 32, height: 32 });

/** @param {string} status */
export function statusName(status) {
  const key = /** @type {any} */ (`status.${status}`);
  const text = t(key);
  return text === key ? status : text;
}
