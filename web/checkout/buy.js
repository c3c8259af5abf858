// @ts-check
// The choice: the quotes the service offers the member now, and the payment methods.
import { byId, h } from './dom.js';
import { yuan } from './format.js';
import { currentLang, t } from './i18n.js';
import { levelName, mark, methodName, methodOtherName, planName, quoteKey } from './names.js';
import { METHODS, state } from './state.js';

export function renderBuy() {
  const section = byId('buy');
  section.hidden = state.phase !== null;
  const plans = byId('plans');
  plans.replaceChildren();
  if (!state.quotes.length) plans.append(h('p', { class: 'muted' }, state.config ? t('noChoices') : t('loading')));
  for (const q of state.quotes) {
    const key = quoteKey(q);
    const id = `plan-${key.replace(':', '-')}`;
    const input = h('input', { type: 'radio', name: 'plan', id, value: key, class: 'choice-input', checked: key === state.choice });
    input.addEventListener('change', () => {
      state.choice = key;
      renderPayButton();
    });
    // One upgrade per higher level, named by the level and saying how many days it converts.
    const meta =
      q.kind === 'upgrade'
        ? q.upgrade_days !== undefined
          ? t('upgradeDays', { days: q.upgrade_days, level: levelName(q.plan.level), price: yuan(q.amount) })
          : t('upgradeMeta', { level: levelName(state.membership?.level ?? null) })
        : t('planMeta', { days: q.plan.duration_days, level: levelName(q.plan.level) });
    const name = q.kind === 'upgrade' ? t('upgradeTo', { level: levelName(q.plan.level) }) : planName(q.plan);
    plans.append(
      h(
        'label',
        { class: `choice plan kind-${q.kind}`, for: id },
        input,
        h(
          'span',
          { class: 'plan-text' },
          h('span', { class: 'plan-name' }, name, ' ', h('span', { class: `badge badge-${q.kind}` }, t(`kind.${q.kind}`))),
          h('span', { class: 'plan-meta' }, meta),
        ),
        h(
          'span',
          { class: 'plan-price' },
          h('span', { class: 'price' }, yuan(q.amount)),
          // 原价 reads as a discount: shown only for one (an upgrade's price is a difference, not a discount).
          q.kind !== 'upgrade' && q.amount < q.plan.price
            ? h('span', { class: 'list-price' }, t('listPrice', { price: yuan(q.plan.price) }))
            : null,
        ),
      ),
    );
  }
  const methods = byId('methods');
  methods.replaceChildren();
  const enabled = state.config?.payment_methods ?? [];
  if (!enabled.includes(state.method) && enabled.length) state.method = /** @type {any} */ (enabled[0]);
  for (const method of METHODS) {
    const id = `method-${method}`;
    const available = enabled.includes(method);
    const input = h('input', {
      type: 'radio',
      name: 'method',
      id,
      value: method,
      class: 'choice-input',
      checked: method === state.method,
      disabled: !available,
    });
    input.addEventListener('change', () => {
      state.method = method;
      renderPayButton();
    });
    methods.append(
      h(
        'label',
        { class: `choice method method-${method}`, for: id },
        input,
        mark(method),
        h(
          'span',
          { class: 'method-text' },
          h('span', { class: 'method-name' }, methodName(method)),
          h(
            'span',
            { class: 'method-other', lang: currentLang() === 'zh' ? 'en' : 'zh-CN' },
            available ? methodOtherName(method) : t('methodUnavailable'),
          ),
        ),
      ),
    );
  }
  renderPayButton();
}

export function renderPayButton() {
  const button = /** @type {HTMLButtonElement} */ (byId('pay-button'));
  const quote = state.quotes.find((q) => quoteKey(q) === state.choice);
  button.disabled = state.busy || !quote || !state.config?.payment_methods.includes(state.method);
  button.setAttribute('aria-busy', String(state.busy));
  button.textContent = state.busy
    ? t('payBusy')
    : t('payButton', { amount: quote ? yuan(quote.amount) : '', method: methodName(state.method) });
  for (const label of document.querySelectorAll('.choice')) {
    const input = label.querySelector('input');
    label.classList.toggle('selected', !!input?.checked);
  }
}
