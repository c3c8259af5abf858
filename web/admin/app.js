// @ts-check
// The support console: sign-in (demo admin in development, #token=<JWT> or a pasted token, kept in
// sessionStorage), the sections (find, an order, a member, the books, the audit log) chosen by the
// address's fragment, and the language switch. Each section is its own module.

import { ApiError, createApi, NetworkError } from './api.js';
import { byId, h } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';
import { renderAudit } from './audit.js';
import { renderBooks } from './books.js';
import { renderFind } from './find.js';
import { renderMember } from './member.js';
import { renderOrder } from './order.js';

const TOKEN_KEY = 'memberpay.console.token';

/** @type {{ sandbox: boolean, demo_token: boolean, payment_methods: string[] } | null} */
let config = null;
/** Set by each view that polls, cleared when the view changes. @type {(() => void)[]} */
let cleanups = [];

const getToken = () => sessionStorage.getItem(TOKEN_KEY);
const api = createApi(getToken, () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showProblem(t('err.UNAUTHENTICATED'));
  void reroute();
});

/** @typedef {{ api: typeof api, main: HTMLElement, announce: (text: string) => void, fail: (e: unknown) => void, go: (hash: string) => void, onLeave: (fn: () => void) => void, methods: string[] }} Ctx */

/** @param {string} text */
function announce(text) {
  const el = byId('announcer');
  el.textContent = '';
  // A new text node after a tick, so that screen readers announce a repeated message again.
  setTimeout(() => (el.textContent = text), 50);
}

/** @param {string} text */
function showProblem(text) {
  const el = byId('problem');
  el.textContent = text;
  el.hidden = !text;
}

/** The error in words, with the request id support can grep the logs for. @param {unknown} e */
export function errorText(e) {
  if (e instanceof NetworkError) return t('err.NETWORK');
  if (e instanceof ApiError) {
    const key = /** @type {any} */ (`err.${e.code}`);
    const known = t(key);
    const words = known === key ? e.message : `${known} ${e.code === 'VALIDATION_FAILED' || e.code === 'REFUND_REFUSED' ? e.message : ''}`;
    return `${words.trim()}${e.requestId ? ` (${t('reference', { id: e.requestId })})` : ''}`;
  }
  return t('err.OTHER');
}

/** @param {unknown} e */
function fail(e) {
  showProblem(errorText(e));
}

/** Takes a token from #token=… once, then removes it from the address (and from the history). */
function takeTokenFromFragment() {
  const m = /^#token=([\w.-]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, m[1]);
  history.replaceState(null, '', `${location.pathname}${location.search}#/find`);
}

function applyChrome() {
  document.documentElement.lang = currentLang() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('documentTitle');
  for (const el of document.querySelectorAll('[data-i18n]')) {
    el.textContent = t(/** @type {any} */ (el.getAttribute('data-i18n')));
  }
  for (const b of document.querySelectorAll('#lang-switch button')) {
    b.setAttribute('aria-pressed', String(b.getAttribute('data-lang') === currentLang()));
  }
  byId('lang-switch').setAttribute('aria-label', t('languages'));
  byId('nav').setAttribute('aria-label', t('sections'));
  byId('sandbox-banner').hidden = !config?.sandbox;
}

/** The signed-in admin's id, read from the token (display only: the service checks the token). */
function tokenSubject() {
  try {
    const payload = JSON.parse(atob((getToken() ?? '').split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return String(payload.sub ?? '');
  } catch {
    return '';
  }
}

/** @param {Ctx} ctx */
function renderSignIn(ctx) {
  const main = ctx.main;
  const input = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { id: 'token-input', rows: 3, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'token-hint' })
  );
  const status = h('p', { class: 'form-error', role: 'alert', id: 'sign-in-error' });
  /** @param {string} token */
  async function tryToken(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    try {
      await api.get('/api/v1/admin/audit-log?limit=1');
      showProblem('');
      location.hash = '#/find';
      await reroute();
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      status.textContent = e instanceof ApiError && e.status === 403 ? t('notAdmin') : errorText(e);
    }
  }
  main.replaceChildren(
    h(
      'section',
      { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
      h('h1', { id: 'sign-in-title', tabindex: '-1' }, t('signInTitle')),
      h('p', { class: 'lead' }, t('signInLead')),
      config?.demo_token
        ? h(
            'div',
            { class: 'demo' },
            h(
              'button',
              {
                type: 'button',
                class: 'primary',
                id: 'demo-sign-in',
                onclick: async () => {
                  try {
                    const demo = await api.post('/api/v1/console/demo-token');
                    await tryToken(demo.token);
                  } catch (e) {
                    status.textContent = errorText(e);
                  }
                },
              },
              t('demoSignIn'),
            ),
            h('p', { class: 'muted' }, t('demoHint')),
          )
        : null,
      h(
        'form',
        {
          class: 'stack',
          onsubmit: (/** @type {Event} */ e) => {
            e.preventDefault();
            const token = input.value.trim();
            if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
              status.textContent = t('tokenMalformed');
              input.focus();
              return;
            }
            void tryToken(token);
          },
        },
        h('label', { for: 'token-input' }, t('pasteToken')),
        input,
        h('p', { class: 'muted', id: 'token-hint' }, t('tokenHint')),
        h('button', { type: 'submit', class: 'secondary' }, t('signIn')),
      ),
      status,
    ),
  );
}

/**
 * Routes one at a time, in the order asked: a route still loading (a member's view) never paints over
 * one asked after it (the language switched meanwhile), whichever answer arrives last.
 */
let routing = Promise.resolve();
function reroute() {
  routing = routing.then(route, route);
  return routing;
}

async function route() {
  for (const fn of cleanups) fn();
  cleanups = [];
  applyChrome();
  const main = byId('main');
  /** @type {Ctx} */
  const ctx = {
    api,
    main,
    announce,
    fail,
    go: (hash) => {
      if (location.hash === hash) void reroute();
      else location.hash = hash;
    },
    onLeave: (fn) => cleanups.push(fn),
    methods: config?.payment_methods ?? ['wechat', 'alipay'],
  };
  const signedIn = !!getToken();
  byId('nav').hidden = !signedIn;
  byId('sign-out').hidden = !signedIn;
  const who = byId('who');
  who.hidden = !signedIn;
  who.textContent = signedIn ? t('signedInAs', { id: tokenSubject() }) : '';
  if (!signedIn) {
    renderSignIn(ctx);
    focusHeading(main);
    return;
  }
  const [, section, arg] = /^#\/(\w+)(?:\/([^?]*))?/.exec(location.hash) ?? [];
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  for (const a of document.querySelectorAll('#nav a')) {
    const current = a.getAttribute('data-nav') === (section === 'order' || section === 'member' ? 'find' : (section ?? 'find'));
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    if (section === 'order' && arg) await renderOrder(ctx, decodeURIComponent(arg));
    else if (section === 'member' && arg) await renderMember(ctx, decodeURIComponent(arg));
    else if (section === 'books') await renderBooks(ctx, params);
    else if (section === 'audit') await renderAudit(ctx, params);
    else await renderFind(ctx, params);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    fail(e);
  }
  focusHeading(main);
}

/** After a change of section the focus goes to its heading, as a new page would start there. @param {HTMLElement} main */
function focusHeading(main) {
  const heading = /** @type {HTMLElement | null} */ (main.querySelector('h1'));
  heading?.focus();
}

async function start() {
  takeTokenFromFragment();
  try {
    config = await (await fetch('/api/v1/console/config', { headers: { Accept: 'application/json' } })).json();
  } catch {
    config = null;
  }
  for (const b of document.querySelectorAll('#lang-switch button')) {
    b.addEventListener('click', () => {
      setLang(/** @type {'en' | 'zh'} */ (b.getAttribute('data-lang')));
      void reroute();
    });
  }
  byId('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showProblem('');
    location.hash = '';
    void reroute();
  });
  window.addEventListener('hashchange', () => {
    showProblem('');
    if (/^#token=/.test(location.hash)) takeTokenFromFragment();
    void reroute();
  });
  await reroute();
}

void start();
