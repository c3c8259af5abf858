/**
 * An answer node of the OpenAPI gateway (`alipay_trade_query_response` and its siblings), whose
 * signature the SDK has checked (docs/alipay.md#answer-signatures), as much as we read of it: the
 * result codes (docs/alipay.md#result-codes) and the method's own fields.
 */
export interface AlipayAnswer {
  code?: string;
  msg?: string;
  sub_code?: string;
  sub_msg?: string;
  [key: string]: unknown;
}

/**
 * An asynchronous notification, or the return page's query: form fields, each sent once and already
 * form-decoded (docs/alipay.md#notifications), the ones we read named.
 */
export interface AlipayNotification {
  app_id?: string;
  seller_id?: string;
  out_trade_no?: string;
  trade_no?: string;
  trade_status?: string;
  total_amount?: string;
  gmt_payment?: string;
  notify_id?: string;
  /** The trade's currency when it is not CNY (cross-border trades send trans_currency). */
  currency?: string;
  trans_currency?: string;
  sign?: string;
  sign_type?: string;
  [key: string]: string | undefined;
}
