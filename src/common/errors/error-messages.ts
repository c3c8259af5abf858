import type { ErrorCode } from './error-codes';

/**
 * Error messages in Chinese, for a client whose Accept-Language prefers it (the member's app, the
 * checkout page): the code stays the same, only `message` changes. The English messages are written
 * where the errors are thrown; this table gives each a Chinese wording: the exact message when it is
 * known here, else a pattern for the messages that carry a value, else the code's general meaning.
 */
const EXACT: Record<string, string> = {
  'A valid bearer token is required': '需要有效的登录令牌',
  'A bearer token is required': '需要登录令牌',
  'The token has expired': '登录令牌已过期，请重新登录',
  'The token is invalid': '登录令牌无效',
  'The token has no expiry (exp)': '登录令牌缺少有效期（exp）',
  'The token has no valid subject': '登录令牌缺少有效的用户（sub）',
  'The token is issued in the future': '登录令牌的签发时间晚于当前时间',
  'This route is for administrators only': '仅限管理员访问',
  'The request is invalid': '请求无效',
  'The request body is not valid JSON': '请求内容不是有效的 JSON',
  'The request body is too large': '请求内容过大',
  'The request body is nested too deeply': '请求内容嵌套层级过深',
  'The request body encoding is not supported': '不支持请求内容的编码',
  'The request could not be read': '无法读取请求内容',
  'No such order was found': '未找到该订单',
  'The order has expired: create a new order': '订单已过期，请重新下单',
  'The order was paid before it could be cancelled': '订单在取消前已支付',
  'The order was paid with its previous QR code': '订单已通过之前的二维码支付',
  'There is no active membership to upgrade: buy the plan with is_upgrade set to false':
    '当前没有可升级的有效会员，请直接购买该套餐（is_upgrade 设为 false）',
  'Your membership is already at this level: renew it with is_upgrade set to false':
    '您的会员已是该等级，请直接续费（is_upgrade 设为 false）',
  'This Idempotency-Key was used with a different request body': '该 Idempotency-Key 已用于另一个不同的请求',
  'A request with this Idempotency-Key is still being processed; retry later': '使用该 Idempotency-Key 的请求仍在处理中，请稍后重试',
  'Refunds would exceed what was paid': '退款总额将超过实付金额',
  'Internal server error': '服务器内部错误',
  'Too Many Requests': '请求过于频繁，请稍后再试',
};

const STATUS_ZH: Record<string, string> = {
  pending: '待支付',
  paid: '已支付',
  closed: '已关闭',
  expired: '已过期',
  failed: '支付失败',
  refunded: '已退款',
  partially_refunded: '已部分退款',
};

const PATTERNS: [RegExp, (...m: string[]) => string][] = [
  [/^No active membership plan has the id (\d+)$/, (id) => `没有 id 为 ${id} 的有效会员套餐`],
  [/^The order is (\w+) and cannot be [\w ]+$/, (status) => `订单${STATUS_ZH[status] ?? `状态为 ${status}`}，无法进行该操作`],
  [/^The order is paid and cannot be [\w ]+$/, () => '订单已支付，无法进行该操作'],
  [
    /^The order is (\w+): only a paid order can be refunded$/,
    (status) => `订单${STATUS_ZH[status] ?? `状态为 ${status}`}，只有已支付的订单可以退款`,
  ],
  [/^Nothing is left to refund: the (\d+) fen paid were refunded$/, (fen) => `已无可退金额：实付的 ${fen} 分已全部退款`],
  [/^Order (\w+) already upgrades these days/, (no) => `订单 ${no} 已在升级这些天数：请先支付它，或取消后再创建新的升级`],
  [/^The token lives longer than (\d+) seconds$/, (s) => `登录令牌有效期超过 ${s} 秒`],
  [/^The token was signed with another secret/, () => '登录令牌由另一个密钥签发，本服务无法验证（JWT_SECRET 不一致）'],
];

const BY_CODE: Record<ErrorCode, string> = {
  VALIDATION_FAILED: '请求无效',
  MALFORMED_REQUEST: '无法读取请求',
  PAYMENT_METHOD_DISABLED: '该支付方式未开通',
  PAYMENT_CHANNEL_DISABLED: '该支付渠道未开通',
  PAYER_REFUSED: '支付平台不接受该付款人：openid 须是付款人在该 app_id 下的 openid；请换用正确的 openid，或改用其他支付方式',
  UNAUTHENTICATED: '需要有效的登录令牌',
  FORBIDDEN: '无权访问',
  NOT_FOUND: '未找到',
  ORDER_NOT_FOUND: '未找到该订单',
  PRODUCT_NOT_FOUND: '未找到该商品',
  METHOD_NOT_ALLOWED: '不支持该请求方法',
  ORDER_NOT_PAYABLE: '该订单当前无法支付',
  ORDER_ALREADY_PAID: '订单已支付',
  AUTO_RENEW_ACTIVE: '已有生效中的自动续费',
  AUTO_RENEW_INACTIVE: '自动续费协议未生效，无法扣款',
  MEMBERSHIP_CONFLICT: '与当前会员状态冲突',
  UPGRADE_PENDING: '已有一个升级订单在处理这些天数：请先支付或取消它',
  IDEMPOTENCY_KEY_REUSED: '该 Idempotency-Key 已用于另一个不同的请求',
  IDEMPOTENCY_KEY_IN_FLIGHT: '使用该 Idempotency-Key 的请求仍在处理中，请稍后重试',
  ORDER_NOT_REFUNDABLE: '该订单无法退款',
  REFUND_EXCEEDS_PAID: '退款总额将超过实付金额',
  REFUND_REFUSED: '支付平台拒绝了退款',
  PAYLOAD_TOO_LARGE: '请求内容过大',
  UNSUPPORTED_MEDIA_TYPE: '不支持该内容类型',
  RATE_LIMITED: '请求过于频繁，请稍后再试',
  INTERNAL_ERROR: '服务器内部错误',
  PROVIDER_UNAVAILABLE: '支付平台暂时不可用，请稍后重试',
  SERVICE_UNAVAILABLE: '服务暂时不可用，请稍后重试',
  PROVIDER_TIMEOUT: '支付平台响应超时，请稍后重试',
};

function inChinese(code: ErrorCode, message: string): string {
  if (EXACT[message]) return EXACT[message];
  for (const [pattern, render] of PATTERNS) {
    const m = pattern.exec(message);
    if (m) return render(...m.slice(1));
  }
  return BY_CODE[code];
}

export type MessageLanguage = 'zh' | 'en';

/** The message in the client's language; a list (the fields of VALIDATION_FAILED) keeps its field names. */
export function localizedMessage(code: ErrorCode, message: string | string[], language: MessageLanguage): string | string[] {
  if (language === 'en') return message;
  return Array.isArray(message) ? message.map((detail) => `${BY_CODE[code]}：${detail}`) : inChinese(code, message);
}
