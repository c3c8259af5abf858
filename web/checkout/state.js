// @ts-check
// What the page knows: the service's answers and the member's choices, shared by the page's modules.

/**
 * @typedef {{ id: number, code: string, name: string, name_zh?: string | null, level: number, duration_days: number, price: number,
 *   auto_renew?: boolean, auto_renew_methods?: string[], auto_renew_upgrade_methods?: string[], renewal_amount?: number | null }} Plan
 */
/** @typedef {{ plan: Plan, kind: 'purchase' | 'renewal' | 'upgrade', is_upgrade: boolean, amount: number, upgrade_days?: number }} Quote */
/** @typedef {{ level: number, plan_code: string, starts_at: string, ends_at: string, order_no: string | null }} Period */
/**
 * @typedef {{ status: 'pending' | 'active' | 'past_due' | 'cancelled' | 'lapsed', provider: 'wechat' | 'alipay', plan_code: string | null,
 *   amount: number, next_renewal_at: string | null, signed_at: string | null, cancelled_at: string | null, grace_ends_at: string | null }} AutoRenew
 */
/** @typedef {{ active?: boolean, level: number | null, expires_at: string | null, periods?: Period[], auto_renew?: AutoRenew | null }} Membership */
/**
 * @typedef {{ order_no: string, status: string, amount: number, description: string, product_id: number,
 *   is_upgrade: boolean, auto_renew?: boolean, payment_method: 'wechat' | 'alipay', qr_code_url: string | null, qr_code_image?: string | null,
 *   qr_code_expire_at: string | null, expire_at: string, created_at: string, refunded_amount?: number,
 *   channel?: string, pay?: { channel: string, expires_at: string, h5_url?: string, url?: string } | null }} Order
 */
/** @typedef {'qr' | 'qr-expired' | 'paid' | 'expired' | 'closed' | 'failed'} Phase */

export const METHODS = /** @type {const} */ (['wechat', 'alipay']);

export const state = {
  /**
   * @type {{ sandbox: boolean, demo_token: boolean, payment_methods: string[], channels?: Record<string, string[]>,
   *   sandbox_pay_page: Record<string, string | null>, sandbox_sign_page?: Record<string, string | null> } | null}
   */
  config: null,
  /** @type {string | null} */
  token: null,
  /** @type {Plan[]} */ plans: [],
  /** @type {Quote[]} */ quotes: [],
  /** @type {Membership | null} */ membership: null,
  /** @type {Order[]} */ orders: [],
  /** @type {string | null} the chosen quote, as "<plan id>:<is_upgrade>" */ choice: null,
  /** @type {'wechat' | 'alipay'} */ method: 'wechat',
  /** the member ticked auto-renewal for the current choice (never ticked in advance; unticked when the choice changes) */
  autoRenew: false,
  /** @type {Order | null} */ current: null,
  /** @type {Phase | null} */ phase: null,
  busy: false,
  /** @type {{ request: string, key: string } | null} the create-order request last tried and its Idempotency-Key */ attempt: null,
  /** signed in with a demo token (not one given in the URL) */ demo: false,
  /** @type {'connecting' | 'live' | 'down'} */ live: 'connecting',
  /** @type {{ error: unknown, method?: string } | null} */ problem: null,
};

/** The channel a phone browser pays on itself: WeChat Pay's H5 and Alipay's WAP payment. */
const PHONE_CHANNELS = /** @type {const} */ ({ wechat: 'h5', alipay: 'wap' });

/**
 * On a phone-sized screen a QR code cannot be scanned by the phone showing it: the page opens the
 * payment in the phone's browser instead, when this instance turns that channel on.
 * @param {'wechat' | 'alipay'} method
 */
export function channelFor(method) {
  const phone = PHONE_CHANNELS[method];
  const onPhone = typeof matchMedia === 'function' && matchMedia('(max-width: 640px)').matches;
  return onPhone && state.config?.channels?.[method]?.includes(phone) ? phone : 'qr';
}

/** When what the client pays with stops working: the QR code's expiry, or the channel's. @param {Order} order */
export function payExpiry(order) {
  return order.pay?.expires_at ?? order.qr_code_expire_at;
}
