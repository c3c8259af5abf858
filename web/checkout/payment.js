// @ts-check
// The payment panel: the QR code with its countdown and the sandbox link, or the order's outcome.
import { serverNow } from './api.js';
import { byId, h, present } from './dom.js';
import { dateTime, minutesSeconds, yuan } from './format.js';
import { currentLang, t } from './i18n.js';
import { levelName, mark, methodName, orderTitle } from './names.js';
import { payExpiry, state } from './state.js';

/** @typedef {import('./state.js').Membership} Membership */
/** @typedef {import('./state.js').Order} Order */

/**
 * The order being paid: its QR code while it is payable, then what became of it.
 * @param {{ newQr: () => void, cancelOrder: () => void, backToPlans: () => void }} actions
 */
export function renderPayment(actions) {
  const section = byId('payment');
  const order = state.current;
  section.hidden = !order || !state.phase;
  section.replaceChildren();
  if (!order || !state.phase) return;
  const summary = h(
    'div',
    { class: 'pay-summary' },
    mark(order.payment_method, 'mark-large'),
    h('div', {}, h('p', { class: 'pay-method' }, methodName(order.payment_method)), h('p', { class: 'pay-desc' }, orderTitle(order))),
    h('p', { class: 'pay-amount' }, h('span', { class: 'visually-hidden' }, `${t('amount')}: `), yuan(order.amount)),
  );
  const orderLine = h('p', { class: 'order-no' }, `${t('orderNo')} `, h('code', {}, order.order_no));
  const phoneLink = order.pay?.h5_url ?? order.pay?.url;
  if ((state.phase === 'qr' || state.phase === 'qr-expired') && phoneLink) {
    // Paying on this phone: the provider's page opens in another tab, this one waits for order.paid.
    const expired = state.phase === 'qr-expired';
    section.append(
      ...present(
        h('h2', { id: 'payment-title', tabindex: -1 }, t('phoneTitle')),
        summary,
        expired
          ? h('p', { class: 'qr-expired-text' }, t('phoneExpired'))
          : h(
              'p',
              { class: 'phone-pay' },
              h(
                'a',
                { class: 'button primary', id: 'open-pay', href: phoneLink, target: '_blank', rel: 'noopener' },
                t(`openPay.${order.payment_method}`),
              ),
              ' ',
              h('span', { class: 'muted' }, t('newTab')),
            ),
        !expired ? h('p', { class: 'countdown', role: 'timer', id: 'countdown' }, countdownText(order)) : null,
        !expired ? h('p', { class: 'scan-hint' }, t(`phoneHint.${order.payment_method}`)) : null,
        !expired ? h('p', { class: 'waiting' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('waiting')) : null,
        orderLine,
        h(
          'div',
          { class: 'actions' },
          expired && !order.auto_renew
            ? h('button', { type: 'button', class: 'primary', id: 'new-qr', onclick: actions.newQr, disabled: state.busy }, t('newLink'))
            : null,
          h(
            'button',
            { type: 'button', class: 'secondary', id: 'cancel-order', onclick: actions.cancelOrder, disabled: state.busy },
            t('cancel'),
          ),
        ),
      ),
    );
    return;
  }
  if (state.phase === 'qr' || state.phase === 'qr-expired') {
    const expired = state.phase === 'qr-expired';
    // An auto-renewal order is signed (and with WeChat Pay paid) on the sandbox's signing page.
    const payPage = order.auto_renew
      ? state.config?.sandbox_sign_page?.[order.payment_method]
      : state.config?.sandbox_pay_page[order.payment_method];
    const payUrl = payPage && order.qr_code_url ? `${payPage}?qr=${encodeURIComponent(order.qr_code_url)}` : null;
    const image = h('img', {
      class: 'qr-image',
      src: order.qr_code_image ?? '',
      alt: payUrl ? '' : t('qrAlt', { order: order.order_no }),
      width: 264,
      height: 264,
    });
    const qr =
      payUrl && !expired
        ? h(
            'a',
            { class: 'qr', href: payUrl, target: '_blank', rel: 'noopener', 'aria-label': t('qrLinkLabel', { order: order.order_no }) },
            image,
          )
        : h('div', { class: `qr${expired ? ' qr-expired' : ''}` }, image);
    section.append(
      ...present(
        h('h1', { id: 'payment-title', tabindex: -1 }, order.auto_renew ? t(`scanSignTitle.${order.payment_method}`) : t('scanTitle')),
        summary,
        h(
          'div',
          { class: 'qr-box' },
          qr,
          expired
            ? h('p', { class: 'qr-expired-text' }, t('qrExpired'))
            : h('p', { class: 'countdown', role: 'timer', id: 'countdown' }, countdownText(order)),
        ),
        !expired
          ? h(
              'p',
              { class: 'scan-hint' },
              order.auto_renew
                ? t(`scanSignHint.${order.payment_method}`, { amount: yuan(order.amount) })
                : t(`scanHint.${order.payment_method}`),
            )
          : null,
        payUrl && !expired
          ? h(
              'p',
              { class: 'sandbox-link' },
              h(
                'a',
                { href: payUrl, target: '_blank', rel: 'noopener' },
                order.auto_renew ? t(`sandboxSign.${order.payment_method}`) : t('sandboxPay'),
              ),
              ' ',
              h('span', { class: 'muted' }, t('newTab')),
            )
          : null,
        !expired ? h('p', { class: 'waiting' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('waiting')) : null,
        orderLine,
        h(
          'div',
          { class: 'actions' },
          // An auto-renewal order has one code, living as long as the order: it ends with it.
          expired && !order.auto_renew
            ? h('button', { type: 'button', class: 'primary', id: 'new-qr', onclick: actions.newQr, disabled: state.busy }, t('newQr'))
            : null,
          h(
            'button',
            { type: 'button', class: 'secondary', id: 'cancel-order', onclick: actions.cancelOrder, disabled: state.busy },
            t('cancel'),
          ),
        ),
      ),
    );
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
  const body =
    state.phase === 'paid' && m?.expires_at ? h('p', { class: 'result-text' }, ...paidSentence(m)) : h('p', { class: 'result-text' }, text);
  section.append(
    h(
      'div',
      { class: `result result-${state.phase}` },
      h('div', { class: 'result-icon', 'aria-hidden': 'true' }, state.phase === 'paid' ? '✓' : '!'),
      h('h1', { id: 'payment-title', tabindex: -1 }, title),
      body,
      summary,
      orderLine,
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', class: 'primary', id: 'done', onclick: actions.backToPlans },
          state.phase === 'paid' ? t('done') : t('startAgain'),
        ),
      ),
    ),
  );
}

/** "…a Premium member until <time>": the date is a <time> element the browser test reads. @param {Membership} m */
export function paidSentence(m) {
  const [before, after] = t('paidText', { level: levelName(m.level), date: '\u0000' }).split('\u0000');
  return [before, h('time', { id: 'paid-expires', datetime: m.expires_at ?? '' }, dateTime(currentLang(), m.expires_at)), after];
}

/** @param {Order} order */
export function countdownText(order) {
  const left = (Date.parse(payExpiry(order) ?? '') - serverNow()) / 1000;
  return t(order.pay?.h5_url || order.pay?.url ? 'linkExpiresIn' : 'expiresIn', { time: minutesSeconds(left) });
}
