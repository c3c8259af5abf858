import type { AxiosResponse } from 'axios';
import type { KeyObject } from 'node:crypto';
import { DomainError } from '../../../common/errors/domain-error';
import type { WechatPayConfig } from '../../../config/providers/wechat-pay.settings';
import type { ChannelDescriptor, ChannelRequest, OpenedPayment, PaymentChannel } from '../../payment-channel';
import type { PayableOrder } from '../../payment-provider';
import { appPayParams, h5PayUrl, jsapiPayParams } from './wechat-pay.client-params';
import { toProviderError } from './wechat-pay.errors';
import { beijingRfc3339 } from './wechat-pay.mapper';

const MINUTE = 60_000;

/**
 * WeChat Pay's channels, in one place: validation, the OpenAPI enum and the disabled-channel
 * answer derive from it. Lifetimes are WeChat Pay's own (docs/channels.md#wechat-pay): a code_url and a
 * prepay_id stay usable for 2 hours, an h5_url for about 5 minutes.
 */
export const WECHAT_CHANNELS = {
  qr: {
    enabledBy: 'WECHAT_PAY_APP_ID (the Native payment)',
    lifetimeMs: 120 * MINUTE,
    client: 'render qr_code_url as a QR code for WeChat to scan',
  },
  app: {
    enabledBy: 'WECHAT_PAY_APP_APP_ID (the mobile app id from the WeChat Open Platform)',
    lifetimeMs: 120 * MINUTE,
    client: 'pass the fields to the WeChat OpenSDK as a PayReq (sendReq)',
  },
  jsapi: {
    enabledBy: 'WECHAT_PAY_JSAPI_APP_IDS (official account / mini program app ids)',
    lifetimeMs: 120 * MINUTE,
    client: 'pass the fields to WeixinJSBridge getBrandWCPayRequest or wx.requestPayment',
  },
  h5: {
    enabledBy: 'WECHAT_PAY_H5_REDIRECT_URL (a page on the domain registered for H5 payment)',
    lifetimeMs: 5 * MINUTE,
    client: 'send the phone browser (outside WeChat) to h5_url',
  },
} as const satisfies ChannelDescriptor<'qr' | 'app' | 'jsapi' | 'h5'>;

export type WechatChannel = keyof typeof WECHAT_CHANNELS;

export function wechatEnabledChannels(config: WechatPayConfig): WechatChannel[] {
  const on: Record<WechatChannel, boolean> = {
    qr: true,
    app: !!config.appAppId,
    jsapi: config.jsapiAppIds.length > 0,
    h5: !!config.h5RedirectUrl,
  };
  return (Object.keys(WECHAT_CHANNELS) as WechatChannel[]).filter((c) => on[c]);
}

/** Every app id whose payments are ours: notifications of APP and JSAPI payments carry theirs. */
export function wechatAppIds(config: WechatPayConfig): string[] {
  return [config.appId, ...(config.appAppId ? [config.appAppId] : []), ...config.jsapiAppIds];
}

type Post = (path: 'app' | 'jsapi' | 'h5', body: Record<string, unknown>) => Promise<AxiosResponse<Record<string, unknown>>>;

const invalid = (detail: string) => new DomainError('VALIDATION_FAILED', 'The request is invalid', [detail]);

/**
 * Opens an APP, JSAPI or H5 payment: the same order body as Native at its own endpoint, then
 * what that client needs. The QR channel stays with the provider's createQr.
 */
export async function openWechatPhonePayment(
  post: Post,
  config: WechatPayConfig,
  signingKey: KeyObject,
  order: PayableOrder,
  request: ChannelRequest & { channel: Exclude<PaymentChannel, 'qr'> },
): Promise<OpenedPayment> {
  const base = {
    mchid: config.mchId,
    description: order.description,
    out_trade_no: order.paymentNo,
    time_expire: beijingRfc3339(order.expiresAt),
    notify_url: config.notifyUrl,
    amount: { total: order.amountFen, currency: 'CNY' },
  };
  switch (request.channel) {
    case 'app': {
      const appId = config.appAppId!;
      const prepayId = expectString((await post('app', { appid: appId, ...base })).data?.prepay_id, 'prepay_id');
      return { pay: appPayParams(appId, config.mchId, prepayId, signingKey) };
    }
    case 'jsapi': {
      const appId = request.appId ?? config.jsapiAppIds[0];
      const prepayId = expectString(
        (await post('jsapi', { appid: appId, ...base, payer: { openid: request.openid! } })).data?.prepay_id,
        'prepay_id',
      );
      return { pay: jsapiPayParams(appId, prepayId, signingKey) };
    }
    case 'h5': {
      const h5Url = expectString(
        (
          await post('h5', {
            appid: config.appId,
            ...base,
            scene_info: { payer_client_ip: request.clientIp, h5_info: { type: request.h5Type ?? 'Wap' } },
          })
        ).data?.h5_url,
        'h5_url',
      );
      return { pay: { h5_url: h5PayUrl(h5Url, request.returnUrl ?? config.h5RedirectUrl) } };
    }
    default:
      throw invalid(`channel ${request.channel} is not a WeChat Pay channel`);
  }
}

/** What a channel needs from the caller, checked before anything is recorded. */
export function checkWechatChannelRequest(config: WechatPayConfig, request: ChannelRequest): void {
  if (request.channel === 'jsapi') {
    if (!request.openid) throw invalid('openid is required for the jsapi channel');
    if (request.appId && !config.jsapiAppIds.includes(request.appId)) {
      throw invalid('app_id must be one of the app ids configured for the jsapi channel (WECHAT_PAY_JSAPI_APP_IDS)');
    }
  }
  if (request.channel === 'h5' && !request.clientIp) throw invalid("the payer's IP address is unknown");
}

function expectString(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value) throw toProviderError({ message: `answer without a ${field}` }, 'create');
  return value;
}
