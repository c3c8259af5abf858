// `GET /sandbox/pay?qr=…`: a buyer's view of a QR code, with a Pay button. A plain form POST (no
// script) to /sandbox/pay, which redirects back here. Every value is HTML-escaped: subjects and
// descriptions come from the merchant's request.
import type { TradeView } from './control/trade-view';

function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function layout(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem}
.banner{background:#b00;color:#fff;padding:.5rem;font-weight:bold}
dt{font-weight:bold;margin-top:.5rem}button{font-size:1.2rem;padding:.5rem 2rem;margin-top:1rem}
.msg{background:#eef;padding:.5rem}</style></head>
<body><p class="banner">PAYMENT SANDBOX — not real money</p>${content}</body></html>`;
}

export function renderPayPage(view: TradeView, qr: string, message?: string): string {
  const provider = view.provider === 'wechat' ? 'WeChat Pay (微信支付)' : 'Alipay (支付宝)';
  const payable = !view.paid && !view.closed;
  const last = view.notifications.at(-1) as { delivered?: boolean; attempts?: unknown[] } | undefined;
  const notice = last
    ? `<dt>Last notification</dt><dd>${last.delivered ? 'acknowledged' : 'not acknowledged'} after ${escapeHtml(last.attempts?.length ?? 0)} send(s)</dd>`
    : '';
  const form = payable
    ? `<form method="post" action="/sandbox/pay"><input type="hidden" name="qr" value="${escapeHtml(qr)}">
<button type="submit">Pay ¥${escapeHtml(view.amount_yuan)}</button></form>`
    : '<p>This order cannot be paid (already paid or closed).</p>';
  // Where the buyer goes next: a real wallet returns to the merchant's app or page; here, the page
  // the merchant's server serves (its checkout page, on the origin its notify_url names) shows the order.
  const merchant = merchantPage(view.notify_url);
  const link = merchant ? ` <a class="back" href="${escapeHtml(merchant)}">${escapeHtml(merchant)}</a>` : '';
  const back = view.paid
    ? `<p class="back-hint">已支付：请回到商户页面查看订单。 · Paid: go back to the merchant's page to see the order.${link}</p>`
    : `<p class="back-hint">付款后请回到商户页面（扫码时打开的页面）。 · After paying, go back to the merchant's page you came from.${link}</p>`;
  return layout(
    `Pay ${view.out_trade_no}`,
    `
${message ? `<p class="msg">${escapeHtml(message)}</p>` : ''}
<h1>${escapeHtml(provider)}</h1>
<dl>
<dt>Order</dt><dd>${escapeHtml(view.title)}</dd>
<dt>Amount</dt><dd>¥${escapeHtml(view.amount_yuan)}</dd>
<dt>out_trade_no</dt><dd><code>${escapeHtml(view.out_trade_no)}</code></dd>
<dt>State</dt><dd>${escapeHtml(view.state)}</dd>
${notice}
</dl>
${form}
${back}`,
  );
}

/** The merchant's page on the origin of its notify URL (the memberpay checkout page in development), or null. */
function merchantPage(notifyUrl: string | null): string | null {
  if (!notifyUrl) return null;
  try {
    const url = new URL(notifyUrl);
    return /^https?:$/.test(url.protocol) ? `${url.origin}/` : null;
  } catch {
    return null;
  }
}

export function renderMissingPage(qr: string): string {
  return layout('Unknown QR code', `<h1>Unknown QR code</h1><p><code>${escapeHtml(qr)}</code> was not issued by this sandbox.</p>`);
}

/**
 * The signing page of auto-renewal: what the member agrees to, and one button that pays the first period
 * and signs (WeChat Pay) or signs (Alipay). `summary` null: the QR is unknown or refused, `message` says why.
 */
export function renderSignPage(summary: Record<string, string> | null, qr: string, message?: string): string {
  const msg = message ? `<p class="msg">${escapeHtml(message)}</p>` : '';
  if (!summary) return layout('Auto-renewal', `${msg}<h1>自动续费 · Auto-renewal</h1><p>Nothing to sign here.</p>`);
  const form =
    summary.signable === 'true'
      ? `<form method="post" action="/sandbox/contracts/sign"><input type="hidden" name="qr" value="${escapeHtml(qr)}">
<button type="submit">${escapeHtml(summary.button ?? '确认签约 · Agree and sign')}</button></form>`
      : '<p>This contract cannot be signed any more (already signed, paid or ended).</p>';
  return layout(
    'Auto-renewal',
    `${msg}
<h1>${escapeHtml(summary.provider)}</h1>
<dl>
<dt>What</dt><dd>${escapeHtml(summary.title)}</dd>
<dt>Amount</dt><dd>${escapeHtml(summary.amount)}</dd>
<dt>Contract</dt><dd>${escapeHtml(summary.contract)}</dd>
<dt>State</dt><dd>${escapeHtml(summary.state)}</dd>
</dl>
${form}`,
  );
}
