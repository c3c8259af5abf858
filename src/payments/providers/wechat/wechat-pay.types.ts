/** The Transaction object of WeChat Pay v3 (docs/wechat-pay.md#notification-decryption), as much as we read of it. */
export interface WechatTransaction {
  appid?: string;
  mchid?: string;
  out_trade_no?: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state?: string;
  trade_state_desc?: string;
  success_time?: string;
  amount?: { total?: number; payer_total?: number; currency?: string; payer_currency?: string };
  payer?: { openid?: string };
  [key: string]: unknown;
}

/** The notification envelope (docs/wechat-pay.md#payment-notifications). */
export interface WechatNotificationEnvelope {
  id?: string;
  create_time?: string;
  event_type?: string;
  resource_type?: string;
  summary?: string;
  resource?: { algorithm?: string; ciphertext?: string; associated_data?: string; nonce?: string; original_type?: string };
}

/** The refund object of create and query answers, and the decrypted refund notification (docs/refunds.md). */
export interface WechatRefund {
  mchid?: string;
  refund_id?: string;
  out_refund_no?: string;
  transaction_id?: string;
  out_trade_no?: string;
  /** `status` in answers, `refund_status` in notifications. */
  status?: string;
  refund_status?: string;
  success_time?: string;
  amount?: { total?: number; refund?: number; payer_total?: number; payer_refund?: number; currency?: string };
  [key: string]: unknown;
}
