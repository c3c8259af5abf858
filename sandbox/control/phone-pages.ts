// Helpers for the phone channels' control side: test openids (a JSAPI order needs the payer's
// openid under its app id, which a real client gets from WeChat's OAuth or wx.login), and the page
// a phone browser comes back to after H5 (WECHAT_PAY_H5_REDIRECT_URL in the development setup).
import { randomBytes } from 'node:crypto';
import type { SandboxContext } from '../context';
import type { ControlAnswer } from './pay';

/** `POST /sandbox/wechat/openid {"appid": …}`: a payer's openid under that app id. */
export function issueOpenid(ctx: SandboxContext, body: Record<string, unknown>): ControlAnswer {
  const appid = body.appid ?? ctx.keys.wechat.appId;
  if (typeof appid !== 'string' || !ctx.keys.wechat.boundAppIds.includes(appid) || appid === ctx.keys.wechat.appAppId) {
    return {
      status: 400,
      body: {
        error: `appid must be an official account or mini program app id of this merchant: ${ctx.keys.wechat.appId} or ${ctx.keys.wechat.miniProgramAppId}`,
      },
    };
  }
  const openid = `o${randomBytes(21).toString('base64url')}`;
  ctx.store.openids.set(openid, appid);
  return { status: 200, body: { appid, openid } };
}

export function renderMerchantReturn(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Back at the merchant</title></head><body><p><b>PAYMENT SANDBOX</b></p>
<p>WeChat Pay sent the browser back here after H5 (the configured redirect_url). WeChat adds nothing
to this URL: the merchant's page asks its own server for the order's status.</p></body></html>`;
}
