import type { AlipaySdk } from 'alipay-sdk';
import type { AlipayConfig } from '../../../config/providers/alipay.settings';
import type { ChannelDescriptor, ChannelRequest, OpenedPayment } from '../../payment-channel';
import type { PayableOrder } from '../../payment-provider';
import { dateToBeijing, fenToYuan } from './alipay.mapper';

/**
 * Alipay's channels, in one place: validation, the OpenAPI enum and the disabled-channel answer
 * derive from it. APP, WAP and page are signed locally by the SDK (no call to Alipay): the trade
 * exists at Alipay only once the buyer opens it (docs/channels.md#alipay).
 */
export const ALIPAY_CHANNELS = {
  qr: { enabledBy: 'ALIPAY_APP_ID (face-to-face precreate)', client: 'render qr_code_url as a QR code for Alipay to scan' },
  app: {
    enabledBy: 'ALIPAY_CHANNELS=app (the APP payment product signed at Alipay)',
    client: 'pass order_string to the Alipay SDK (payV2 / payOrder)',
  },
  wap: { enabledBy: 'ALIPAY_CHANNELS=wap (the mobile website payment product signed at Alipay)', client: 'send the phone browser to url' },
  page: {
    enabledBy: 'ALIPAY_CHANNELS=page (the computer website payment product signed at Alipay)',
    client: 'send the desktop browser to url',
  },
} as const satisfies ChannelDescriptor<'qr' | 'app' | 'wap' | 'page'>;

export type AlipayChannel = keyof typeof ALIPAY_CHANNELS;

export function alipayEnabledChannels(config: AlipayConfig): AlipayChannel[] {
  return (Object.keys(ALIPAY_CHANNELS) as AlipayChannel[]).filter((c) => c === 'qr' || config.channels.includes(c));
}

const METHODS = {
  app: { method: 'alipay.trade.app.pay', productCode: 'QUICK_MSECURITY_PAY' },
  wap: { method: 'alipay.trade.wap.pay', productCode: 'QUICK_WAP_WAY' },
  page: { method: 'alipay.trade.page.pay', productCode: 'FAST_INSTANT_TRADE_PAY' },
} as const;

/**
 * APP: the signed order string the Alipay SDK takes (sdkExecute). WAP and page: the gateway URL
 * the browser opens (pageExecute, GET). Nothing is sent to Alipay here.
 */
export function openAlipayPhonePayment(
  sdk: AlipaySdk,
  config: AlipayConfig,
  order: PayableOrder,
  request: ChannelRequest & { channel: 'app' | 'wap' | 'page' },
): OpenedPayment {
  const { method, productCode } = METHODS[request.channel];
  const minutes = Math.max(1, Math.floor((order.expiresAt.getTime() - Date.now()) / 60_000));
  const bizContent = {
    out_trade_no: order.paymentNo,
    total_amount: fenToYuan(order.amountFen),
    subject: order.description,
    product_code: productCode,
    // timeout_express counts from the trade's creation (when the buyer opens it); time_expire
    // caps it at the attempt's own expiry.
    timeout_express: `${minutes}m`,
    time_expire: dateToBeijing(order.expiresAt),
  };
  // The SDK signs empty values too and the gateway drops them before verifying: never pass ''.
  const params: Record<string, unknown> = { bizContent, timestamp: dateToBeijing(new Date()) };
  if (config.notifyUrl) params.notify_url = config.notifyUrl;
  if (request.channel === 'app') {
    return { pay: { order_string: sdk.sdkExecute(method, params) } };
  }
  const returnUrl = request.returnUrl ?? config.returnUrl;
  if (returnUrl) {
    params.return_url = returnUrl;
    // WAP also names where a buyer who leaves the cashier goes back to: the same page, which
    // shows the order's state whatever happened.
    if (request.channel === 'wap') (bizContent as Record<string, string>).quit_url = returnUrl;
  }
  return { pay: { url: sdk.pageExecute(method, 'GET', params) } };
}
