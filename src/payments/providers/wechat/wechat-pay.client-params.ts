import type { KeyObject } from 'node:crypto';
import { Formatter, Rsa } from 'wechatpay-axios-plugin';

/**
 * The parameters a WeChat client takes to pay a prepay_id, signed by us with the merchant API key
 * (docs/channels.md#wechat-pay): SHA256-with-RSA over the documented values, each followed by a line feed.
 * The plugin's Formatter builds the nonce, the timestamp and the signed lines, and its Rsa signs.
 */

/** WeChat OpenSDK `PayReq` (APP): `sign` over `appid\ntimestamp\nnoncestr\nprepayid\n`. */
export function appPayParams(appId: string, mchId: string, prepayId: string, key: KeyObject): Record<string, string> {
  const timestamp = String(Formatter.timestamp());
  const noncestr = Formatter.nonce(32);
  const sign = Rsa.sign(Formatter.joinedByLineFeed(appId, timestamp, noncestr, prepayId), key);
  return { appid: appId, partnerid: mchId, prepayid: prepayId, package: 'Sign=WXPay', noncestr, timestamp, sign };
}

/**
 * `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` / `wx.requestPayment(…)` (JSAPI, mini
 * program): `paySign` over `appId\ntimeStamp\nnonceStr\npackage\n`.
 */
export function jsapiPayParams(appId: string, prepayId: string, key: KeyObject): Record<string, string> {
  const timeStamp = String(Formatter.timestamp());
  const nonceStr = Formatter.nonce(32);
  const pkg = `prepay_id=${prepayId}`;
  const paySign = Rsa.sign(Formatter.joinedByLineFeed(appId, timeStamp, nonceStr, pkg), key);
  return { appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
}

/** The h5_url with our redirect_url appended, URL-encoded, as WeChat Pay documents it. */
export function h5PayUrl(h5Url: string, redirectUrl?: string): string {
  if (!redirectUrl) return h5Url;
  return `${h5Url}${h5Url.includes('?') ? '&' : '?'}redirect_url=${encodeURIComponent(redirectUrl)}`;
}
