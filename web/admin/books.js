// @ts-check
// The day's books: each provider's reconciliation of a Beijing day with its counts, the items with
// what each outcome means and what was done, resolving a discrepancy with a note, re-running the
// day, and the CSV export of the day or of a range of days.

import { errorText } from './app.js';
import { h } from './dom.js';
import { currentLang, t } from './i18n.js';
import { beijingToday, dateTime, yuan } from './format.js';
import { copyable, methodName, sectionHead, table } from './ui.js';

/** @param {import('./app.js').Ctx} ctx @param {URLSearchParams} params */
export async function renderBooks(ctx, params) {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(params.get('day') ?? '') ? /** @type {string} */ (params.get('day')) : beijingToday();
  const runs = (await ctx.api.get(`/api/v1/admin/reconciliation/runs?from=${day}&to=${day}`)).data;
  const dayForm = h(
    'form',
    {
      class: 'filters',
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        const value = /** @type {HTMLInputElement} */ (document.getElementById('books-day')).value;
        if (value) ctx.go(`#/books?day=${value}`);
      },
    },
    h('label', { class: 'field' }, h('span', {}, t('billDay')), h('input', { type: 'date', id: 'books-day', value: day, required: true })),
    h('button', { type: 'submit', class: 'secondary' }, t('show')),
  );
  const exportStatus = h('p', { role: 'status', class: 'muted', id: 'export-status' });
  const exportDay = h(
    'button',
    { type: 'button', class: 'primary', id: 'export-day', onclick: () => download(ctx, day, day, exportStatus) },
    t('exportDay', { day }),
  );
  const rangeForm = h(
    'form',
    {
      class: 'filters',
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault();
        const from = /** @type {HTMLInputElement} */ (document.getElementById('export-from')).value;
        const to = /** @type {HTMLInputElement} */ (document.getElementById('export-to')).value;
        if (from && to) void download(ctx, from, to, exportStatus);
      },
    },
    h(
      'label',
      { class: 'field' },
      h('span', {}, t('filterFrom')),
      h('input', { type: 'date', id: 'export-from', required: true, value: day }),
    ),
    h('label', { class: 'field' }, h('span', {}, t('filterTo')), h('input', { type: 'date', id: 'export-to', required: true, value: day })),
    h('button', { type: 'submit', class: 'secondary', id: 'export-range' }, t('exportRange')),
  );
  const sections = await Promise.all(
    ctx.methods.map(async (provider) => {
      const run = runs.find((/** @type {any} */ r) => r.provider === provider);
      const items = run && run.compared_at ? (await ctx.api.get(`/api/v1/admin/reconciliation/runs/${run.id}/items`)).data : [];
      return runSection(ctx, provider, day, run, items);
    }),
  );
  ctx.main.replaceChildren(
    ...sectionHead(t('booksTitle'), t('booksLead')).filter((x) => x !== null),
    h(
      'section',
      { class: 'card books-controls', 'aria-label': t('booksControls') },
      dayForm,
      h('div', { class: 'export' }, exportDay, rangeForm),
      exportStatus,
    ),
    ...sections,
  );
}

/**
 * Fetches the CSV with the admin's token and saves it as the file the service names.
 * @param {import('./app.js').Ctx} ctx @param {string} from @param {string} to @param {HTMLElement} status
 */
async function download(ctx, from, to, status) {
  status.textContent = t('exporting');
  try {
    const { blob, filename } = await ctx.api.download(
      `/api/v1/admin/reconciliation/export.csv?${new URLSearchParams({ from, to, lang: currentLang() })}`,
    );
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: filename, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.textContent = t('exported', { file: filename });
  } catch (e) {
    status.textContent = errorText(e);
  }
}

/** @param {import('./app.js').Ctx} ctx @param {string} provider @param {string} day @param {any} run @param {any[]} items */
function runSection(ctx, provider, day, run, items) {
  const lang = currentLang();
  const id = `run-${provider}`;
  const counts = run
    ? h(
        'dl',
        { class: 'facts counts' },
        ...['matched', 'missing_locally', 'missing_at_provider', 'amount_mismatch', 'status_mismatch'].map((k) =>
          h('div', { class: 'fact' }, h('dt', {}, t(/** @type {any} */ (`outcome.${k}`))), h('dd', {}, String(run.counts[k]))),
        ),
        h('div', { class: 'fact' }, h('dt', {}, t('openItems')), h('dd', { class: run.open_items ? 'warn' : '' }, String(run.open_items))),
      )
    : null;
  return h(
    'section',
    { class: 'card run', id, 'aria-labelledby': `${id}-title`, 'data-provider': provider },
    h('h2', { id: `${id}-title` }, t('runTitle', { provider: methodName(provider), day })),
    run
      ? h(
          'p',
          {},
          h('span', { class: `badge badge-run-${run.status}`, 'data-run-status': run.status }, t(/** @type {any} */ (`run.${run.status}`))),
          ' ',
          run.compared_at ? t('comparedAt', { at: dateTime(lang, run.compared_at), rows: run.bill_rows ?? 0 }) : '',
          run.last_error ? h('span', { class: 'warn' }, ` ${run.last_error}`) : null,
        )
      : h('p', { class: 'muted' }, t('notReconciled')),
    counts,
    h(
      'p',
      {},
      h(
        'button',
        { type: 'button', class: 'secondary', id: `rerun-${provider}`, onclick: () => rerunDialog(ctx, provider, day) },
        run ? t('rerun') : t('reconcileNow'),
      ),
    ),
    items.length
      ? table(
          t('itemsTitle', { provider: methodName(provider) }),
          [
            t('colOutcome'),
            t('colKind'),
            t('colReference'),
            t('colOurs'),
            t('colTheirs'),
            t('colTradeNo'),
            t('colWhat'),
            t('colResolution'),
          ],
          items.map((/** @type {any} */ i) => [
            h('span', { class: `badge badge-outcome-${i.outcome}` }, t(/** @type {any} */ (`outcome.${i.outcome}`))),
            t(/** @type {any} */ (`kind.${i.kind}`)),
            h('a', { href: `#/find?q=${encodeURIComponent(i.kind === 'refund' ? i.reference : i.payment_no)}` }, i.reference),
            `${yuan(i.local_amount)} ${i.local_status ?? ''}`,
            h(
              'div',
              {},
              `${yuan(i.provider_amount)} ${i.provider_status ?? ''}`,
              // The fee exactly as the bill wrote it (WeChat Pay: five decimals of yuan), not rounded to the fen.
              i.provider_fee !== null && i.provider_fee !== undefined
                ? h(
                    'p',
                    { class: 'muted small', 'data-fee': i.reference },
                    t('billFee', { fee: String(i.provider_fee).replace(/^(-?)/, '$1¥') }),
                  )
                : null,
            ),
            copyable(i.provider_trade_no),
            h(
              'div',
              {},
              h('p', {}, t(/** @type {any} */ (`meaning.${i.outcome}`))),
              i.action ? h('p', {}, h('strong', {}, t(/** @type {any} */ (`action.${i.action}`)))) : null,
              i.detail ? h('p', { class: 'muted small' }, i.detail) : null,
            ),
            i.open
              ? resolveForm(ctx, i, day)
              : i.resolved_at
                ? t('resolvedBy', { who: i.resolved_by, note: i.resolution_note ?? '' })
                : '—',
          ]),
          `items-${provider}`,
        )
      : null,
  );
}

/** @param {import('./app.js').Ctx} ctx @param {any} item @param {string} day */
function resolveForm(ctx, item, day) {
  const noteId = `note-${item.id}`;
  const error = h('p', { class: 'form-error', role: 'alert' });
  return h(
    'form',
    {
      class: 'resolve',
      'data-item': item.id,
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        const note = /** @type {HTMLInputElement} */ (document.getElementById(noteId)).value.trim();
        if (!note) {
          error.textContent = t('noteRequired');
          return;
        }
        try {
          await ctx.api.post(`/api/v1/admin/reconciliation/items/${item.id}/resolve`, { note });
          ctx.announce(t('resolved'));
          ctx.go(`#/books?day=${day}`);
        } catch (err) {
          error.textContent = errorText(err);
        }
      },
    },
    h('label', { for: noteId, class: 'visually-hidden' }, t('resolveNote', { ref: item.reference })),
    h('input', { id: noteId, placeholder: t('notePlaceholder'), maxlength: 1000, autocomplete: 'off' }),
    h('button', { type: 'submit', class: 'secondary' }, t('resolve')),
    error,
  );
}

/** Re-running a day replaces its result, so it asks why (kept in the audit log). @param {import('./app.js').Ctx} ctx @param {string} provider @param {string} day */
function rerunDialog(ctx, provider, day) {
  const reason = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'rerun-reason', rows: 2, maxlength: 256, required: true }));
  const status = h('p', { role: 'status', class: 'muted' });
  const go = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary', id: 'confirm-rerun' }, t('rerunConfirm')));
  const dialog = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'rerun-title' },
      h(
        'form',
        {
          method: 'dialog',
          class: 'stack',
          onsubmit: async (/** @type {Event} */ e) => {
            e.preventDefault();
            if (!reason.value.trim()) {
              status.textContent = t('reasonRequired');
              reason.focus();
              return;
            }
            go.disabled = true;
            status.textContent = t('rerunning');
            try {
              const result = await ctx.api.post('/api/v1/admin/reconciliation/runs', {
                provider,
                bill_date: day,
                reason: reason.value.trim(),
              });
              dialog.close();
              dialog.remove();
              ctx.announce(t(/** @type {any} */ (`rerun.${result.status}`)));
              ctx.go(`#/books?day=${day}`);
            } catch (err) {
              go.disabled = false;
              status.textContent = errorText(err);
            }
          },
        },
        h('h2', { id: 'rerun-title' }, t('rerunTitle', { provider: methodName(provider), day })),
        h('p', {}, t('rerunText')),
        h('label', { for: 'rerun-reason' }, t('rerunReason')),
        reason,
        h(
          'div',
          { class: 'dialog-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                dialog.close();
                dialog.remove();
              },
            },
            t('cancel'),
          ),
          go,
        ),
        status,
      ),
    )
  );
  dialog.addEventListener('cancel', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  reason.focus();
}
