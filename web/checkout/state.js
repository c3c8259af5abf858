// @ts-check
// What the page knows: the service's answers and the member's choices, shared by the page's modules.

/** @typedef {{ id: number, code: string, name: string, level: number, duration_days: number, price: number }} Plan */
/** @typedef {{ plan: Plan, kind: 'purchase' | 'renewal' | 'upgrade', is_upgrade: boolean, amount: number }} Quote */
/** @typedef {{ level: number, plan_code: string, starts_at: string, ends_at: string, order_no: string | null }} Period */
/** @typedef {{ active?: boolean, level: number | null, expires_at: string | null, periods?: Period[] }} Membership */
/**
 * @typedef {{ order_no: string, status: string, amount: number, description: string, product_id: number,
 *   is_upgrade: boolean, payment_method: 'wechat' | 'alipay', qr_code_url: string | null, qr_code_image?: string | null,
 *   qr_code_expire_at: string | null, expire_at: string, created_at: string, refunded_amount?: number }} Order
 */
/** @typedef {'qr' | 'qr-expired' | 'paid' | 'expired' | 'closed' | 'failed'} Phase */

export const METHODS = /** @type {const} */ (['wechat', 'alipay']);

export const state = {
  /** @type {{ sandbox: boolean, demo_token: boolean, payment_methods: string[], sandbox_pay_page: Record<string, string | null> } | null} */
  config: null,
  /** @type {string | null} */
  token: null,
  /** @type {Plan[]} */ plans: [],
  /** @type {Quote[]} */ quotes: [],
  /** @type {Membership | null} */ membership: null,
  /** @type {Order[]} */ orders: [],
  /** @type {string | null} the chosen quote, as "<plan id>:<is_upgrade>" */ choice: null,
  /** @type {'wechat' | 'alipay'} */ method: 'wechat',
  /** @type {Order | null} */ current: null,
  /** @type {Phase | null} */ phase: null,
  busy: false,
  /** @type {{ request: string, key: string } | null} the create-order request last tried and its Idempotency-Key */ attempt: null,
  /** signed in with a demo token (not one given in the URL) */ demo: false,
  /** @type {'connecting' | 'live' | 'down'} */ live: 'connecting',
  /** @type {{ error: unknown, method?: string } | null} */ problem: null,
};
