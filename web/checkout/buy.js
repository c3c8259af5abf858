// @ts-check
// The choice: the quotes the service offers the member now, and the payment methods.
import { byId, h, present } from './dom.js';
import { serverNow } from './api.js';
import { date, yuan } from './format.js';
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
      // Consent is to one plan's terms: another choice starts unticked.
      state.autoRenew = false;
      renderAutoRenew();
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
      state.autoRenew = false;
      renderAutoRenew();
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
  renderAutoRenew();
  renderPayButton();
}

const DAY_MS = 86_400_000;
/** A contract that renews: a pending one (its order unpaid) is superseded by a new auto-renewal order. */
const OPEN_CONTRACT = ['active', 'past_due'];

/** The chosen quote, when its plan can renew automatically with the chosen method. */
function renewableChoice() {
  const quote = state.quotes.find((q) => quoteKey(q) === state.choice);
  if (!quote) return null;
  const plan = state.plans.find((p) => p.id === quote.plan.id);
  const methods = quote.kind === 'upgrade' ? plan?.auto_renew_upgrade_methods : plan?.auto_renew_methods;
  if (!plan?.auto_renew || !methods?.includes(state.method) || plan.renewal_amount == null) return null;
  return { quote, plan, renewalFen: plan.renewal_amount };
}

/**
 * When the first renewal would be charged: at the end of the paid time this order leads to (now plus
 * the plan's days for a purchase, the current end plus them for a renewal, the current end for an
 * upgrade, which converts days without adding any). The service charges at the end it records.
 * @param {import('./state.js').Quote} quote
 */
function firstRenewalAt(quote) {
  const end = Date.parse(state.membership?.expires_at ?? '');
  const base = quote.kind === 'purchase' || Number.isNaN(end) ? serverNow() : end;
  return new Date(base + (quote.kind === 'upgrade' ? 0 : quote.plan.duration_days * DAY_MS)).toISOString();
}

/**
 * The auto-renewal box, under the chosen plan and method where they can renew: a checkbox never
 * ticked in advance, and before paying the price, the cycle, the day of the first renewal and how to
 * cancel (the rules for auto-renewal in China ask for all four).
 */
export function renderAutoRenew() {
  const box = byId('auto-renew');
  box.replaceChildren();
  const quote = state.quotes.find((q) => quoteKey(q) === state.choice);
  const open = !!state.membership?.auto_renew && OPEN_CONTRACT.includes(state.membership.auto_renew.status);
  // An upgrade ends the member's contract for the lower level, whether or not it signs a new one: said before paying.
  const ends =
    open && quote?.kind === 'upgrade' ? h('p', { class: 'auto-renew-terms', id: 'auto-renew-ends' }, t('autoRenewEndsOnUpgrade')) : null;
  const renewable = renewableChoice();
  if (!renewable) {
    state.autoRenew = false;
    box.hidden = !ends;
    if (ends) box.append(ends);
    return;
  }
  box.hidden = false;
  const { plan, renewalFen } = renewable;
  if (open && renewable.quote.kind !== 'upgrade') {
    state.autoRenew = false;
    box.append(h('p', { class: 'muted auto-renew-open', id: 'auto-renew-open' }, t('autoRenewOpen')));
    return;
  }
  const input = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'auto-renew-input', checked: state.autoRenew }));
  input.addEventListener('change', () => {
    state.autoRenew = input.checked;
    renderPayButton();
  });
  const vars = {
    price: yuan(renewalFen),
    days: plan.duration_days,
    method: methodName(state.method),
    date: date(currentLang(), firstRenewalAt(renewable.quote)),
  };
  box.append(
    ...present(
      ends,
      h(
        'label',
        { class: 'auto-renew-choice', for: 'auto-renew-input' },
        input,
        h('span', { class: 'auto-renew-label' }, t('autoRenewLabel')),
      ),
      h('p', { class: 'auto-renew-terms', id: 'auto-renew-terms' }, t('autoRenewTerms', vars)),
      h('p', { class: 'auto-renew-terms', id: 'auto-renew-cancel' }, t('autoRenewCancel', vars)),
    ),
  );
}

export function renderPayButton() {
  const button = /** @type {HTMLButtonElement} */ (byId('pay-button'));
  const quote = state.quotes.find((q) => quoteKey(q) === state.choice);
  button.disabled = state.busy || !quote || !state.config?.payment_methods.includes(state.method);
  button.setAttribute('aria-busy', String(state.busy));
  button.textContent = state.busy
    ? t('payBusy')
    : t(state.autoRenew ? 'payButtonAutoRenew' : 'payButton', {
        amount: quote ? yuan(quote.amount) : '',
        method: methodName(state.method),
      });
  for (const label of document.querySelectorAll('.choice')) {
    const input = label.querySelector('input');
    label.classList.toggle('selected', !!input?.checked);
  }
}
