// @ts-check
// The page speaks Chinese and English: the browser's language picks one, the switch in the header
// changes it (remembered in localStorage). Payment methods keep the names members know them by.

const en = {
  documentTitle: 'Checkout · memberpay',
  skip: 'Skip to the checkout',
  languages: 'Language',
  sandboxTitle: 'Sandbox.',
  sandboxText:
    'This page runs against the local payment sandbox: nothing is charged and no real money moves. Each QR code links to the sandbox page where you can pay it.',
  demoUser: 'Signed in as the demo member',
  loading: 'Loading…',
  buyTitle: 'Choose your membership',
  buyLead:
    'Prices are quoted for you now. A renewal adds its days after your current membership; an upgrade moves the days you have left to the higher level.',
  choosePlan: 'Plan',
  chooseMethod: 'Pay with',
  'kind.purchase': 'New',
  'kind.renewal': 'Renewal',
  'kind.upgrade': 'Upgrade',
  planMeta: '{days} days · {level}',
  upgradeMeta: 'Your remaining days at {level}',
  upgradeTo: 'Upgrade to {level}',
  upgradeDays: 'Your remaining {days} days become {level}: {price} for the difference',
  listPrice: 'list price {price}',
  payButton: 'Pay {amount} with {method}',
  payBusy: 'Opening the QR code…',
  noChoices: 'No plan can be bought right now.',
  'method.wechat': 'WeChat Pay',
  'method.alipay': 'Alipay',
  methodUnavailable: 'not available here',
  scanTitle: 'Scan to pay',
  'scanHint.wechat': 'Open WeChat, tap ＋ then Scan, and scan this code.',
  'scanHint.alipay': 'Open Alipay, tap Scan, and scan this code.',
  qrAlt: 'QR code of order {order}',
  qrLinkLabel: 'QR code of order {order}: open the sandbox page that pays it (new tab)',
  sandboxPay: 'Pay it on the sandbox page',
  newTab: '(opens a new tab)',
  expiresIn: 'The code expires in {time}',
  qrExpired: 'This QR code has expired. Get a new one to keep paying for this order.',
  newQr: 'New QR code',
  phoneTitle: 'Pay on this phone',
  'openPay.wechat': 'Open WeChat Pay',
  'openPay.alipay': 'Open Alipay',
  'phoneHint.wechat': 'WeChat opens to confirm the payment; come back here when it is done.',
  'phoneHint.alipay': "Alipay's page opens to confirm the payment; come back here when it is done.",
  linkExpiresIn: 'The payment link expires in {time}',
  phoneExpired: 'This payment link has expired. Get a new one to keep paying for this order.',
  newLink: 'New payment link',
  cancel: 'Cancel order',
  orderNo: 'Order',
  amount: 'Amount',
  waiting: 'Waiting for your payment…',
  paidTitle: 'Payment received',
  paidText: 'Thank you. You are now a {level} member until {date}.',
  done: 'Done',
  expiredTitle: 'This order has expired',
  expiredText: 'It was not paid in time, and nothing was charged. Choose a plan to start again.',
  closedTitle: 'This order was cancelled',
  closedText: 'Nothing was charged. Choose a plan to start again.',
  failedTitle: 'The payment could not be opened',
  failedText: 'The payment provider refused this order, and nothing was charged. Please try again or use the other payment method.',
  startAgain: 'Choose again',
  membershipTitle: 'Your membership',
  noMembership: 'You have no active membership yet.',
  validUntil: 'valid until {date}',
  periodsTitle: 'Periods',
  noPeriods: 'No current or future periods.',
  periodOrder: 'order {order}',
  ordersTitle: 'Your orders',
  noOrders: 'No orders yet.',
  'col.order': 'Order',
  'col.method': 'Method',
  'col.amount': 'Amount',
  'col.refunded': 'Refunded',
  'col.status': 'Status',
  'col.created': 'Created',
  'status.pending': 'Awaiting payment',
  'status.paid': 'Paid',
  'status.expired': 'Expired',
  'status.closed': 'Cancelled',
  'status.failed': 'Failed',
  'status.refunded': 'Refunded',
  'status.partially_refunded': 'Partly refunded',
  'live.on': 'Live updates on',
  'live.off': 'Live updates interrupted: checking your order every few seconds',
  'live.connecting': 'Connecting to live updates…',
  'tier.basic': 'Basic',
  'tier.premium': 'Premium',
  'term.monthly': 'monthly',
  'term.quarterly': 'quarterly',
  'term.yearly': 'yearly',
  level: 'level {level}',
  dismiss: 'Dismiss',
  'err.PROVIDER_UNAVAILABLE':
    '{method} is not answering properly right now. Nothing was charged: please try again in a moment, or pay with the other method.',
  'err.PROVIDER_TIMEOUT': '{method} took too long to answer. Nothing was charged: please try again in a moment.',
  'err.PRODUCT_NOT_FOUND': 'This plan is no longer available. The list has been updated.',
  'err.MEMBERSHIP_CONFLICT': 'This choice no longer fits your membership (it changed meanwhile). The list has been updated.',
  'err.RATE_LIMITED': 'Too many orders in a short time. Please wait a minute, then try again.',
  'err.PAYMENT_METHOD_DISABLED': '{method} is not available on this service. Please choose another payment method.',
  'err.ORDER_NOT_PAYABLE': 'This order can no longer be paid. Please choose a plan to start again.',
  'err.ORDER_ALREADY_PAID': 'This order has already been paid.',
  'err.UNAUTHENTICATED': 'Your sign-in has expired. Please reload the page.',
  'err.FORBIDDEN': 'This page needs a sign-in from the membership app: the demo sign-in works only in development.',
  'err.NO_TOKEN':
    'This page needs a sign-in: open it as /#token=<your bearer token>, or run the service in development for the demo member.',
  'err.NETWORK': 'The service cannot be reached. Check that it is running, then try again.',
  'err.OTHER': 'Something went wrong. Please try again.',
  reference: 'Reference: {id}',
};

/** @type {typeof en} */
const zh = {
  documentTitle: '收银台 · memberpay',
  skip: '跳到收银台',
  languages: '语言',
  sandboxTitle: '沙箱环境。',
  sandboxText: '本页面连接的是本机的支付沙箱：不会扣款，也不涉及真实资金。每个二维码都链接到沙箱的付款页面，可在那里完成付款。',
  demoUser: '已登录为演示会员',
  loading: '加载中…',
  buyTitle: '选择会员方案',
  buyLead: '价格按您当前的会员状态报价。续费会接在当前会员期之后；升级会把您剩余的天数升级到更高等级。',
  choosePlan: '方案',
  chooseMethod: '支付方式',
  'kind.purchase': '新购',
  'kind.renewal': '续费',
  'kind.upgrade': '升级',
  planMeta: '{days} 天 · {level}',
  upgradeMeta: '按您{level}的剩余天数计价',
  upgradeTo: '升级为{level}',
  upgradeDays: '将剩余 {days} 天升级为{level}，补差价 {price}',
  listPrice: '原价 {price}',
  payButton: '用{method}付款 {amount}',
  payBusy: '正在生成二维码…',
  noChoices: '当前没有可购买的方案。',
  'method.wechat': '微信支付',
  'method.alipay': '支付宝',
  methodUnavailable: '此处不可用',
  scanTitle: '扫码支付',
  'scanHint.wechat': '打开微信，点击右上角＋，选择“扫一扫”，扫描此二维码。',
  'scanHint.alipay': '打开支付宝，点击“扫一扫”，扫描此二维码。',
  qrAlt: '订单 {order} 的二维码',
  qrLinkLabel: '订单 {order} 的二维码：打开沙箱付款页面（新标签页）',
  sandboxPay: '在沙箱页面付款',
  newTab: '（在新标签页打开）',
  expiresIn: '二维码将在 {time} 后失效',
  qrExpired: '二维码已失效。获取新的二维码即可继续支付此订单。',
  newQr: '获取新二维码',
  phoneTitle: '在本机支付',
  'openPay.wechat': '打开微信支付',
  'openPay.alipay': '打开支付宝',
  'phoneHint.wechat': '将打开微信确认付款，完成后请回到此页面。',
  'phoneHint.alipay': '将打开支付宝页面确认付款，完成后请回到此页面。',
  linkExpiresIn: '支付链接将在 {time} 后失效',
  phoneExpired: '支付链接已失效。获取新的链接即可继续支付此订单。',
  newLink: '获取新的支付链接',
  cancel: '取消订单',
  orderNo: '订单号',
  amount: '金额',
  waiting: '等待付款…',
  paidTitle: '支付成功',
  paidText: '感谢您的支持！您现在是{level}，有效期至 {date}。',
  done: '完成',
  expiredTitle: '订单已过期',
  expiredText: '订单未在有效期内支付，没有产生任何扣款。请重新选择方案。',
  closedTitle: '订单已取消',
  closedText: '没有产生任何扣款。请重新选择方案。',
  failedTitle: '无法发起支付',
  failedText: '支付机构拒绝了此订单，没有产生任何扣款。请重试或换一种支付方式。',
  startAgain: '重新选择',
  membershipTitle: '我的会员',
  noMembership: '您目前还没有有效的会员。',
  validUntil: '有效期至 {date}',
  periodsTitle: '会员期',
  noPeriods: '没有当前或未来的会员期。',
  periodOrder: '订单 {order}',
  ordersTitle: '我的订单',
  noOrders: '还没有订单。',
  'col.order': '订单',
  'col.method': '支付方式',
  'col.amount': '金额',
  'col.refunded': '已退款',
  'col.status': '状态',
  'col.created': '创建时间',
  'status.pending': '待支付',
  'status.paid': '已支付',
  'status.expired': '已过期',
  'status.closed': '已取消',
  'status.failed': '失败',
  'status.refunded': '已退款',
  'status.partially_refunded': '部分退款',
  'live.on': '实时更新已连接',
  'live.off': '实时更新已中断：每隔几秒查询一次订单状态',
  'live.connecting': '正在连接实时更新…',
  'tier.basic': '基础会员',
  'tier.premium': '高级会员',
  'term.monthly': '月度',
  'term.quarterly': '季度',
  'term.yearly': '年度',
  level: '{level} 级',
  dismiss: '关闭',
  'err.PROVIDER_UNAVAILABLE': '{method}暂时无法正常响应。没有产生任何扣款：请稍后重试，或换一种支付方式。',
  'err.PROVIDER_TIMEOUT': '{method}响应超时。没有产生任何扣款：请稍后重试。',
  'err.PRODUCT_NOT_FOUND': '该方案已下架，列表已更新。',
  'err.MEMBERSHIP_CONFLICT': '您的会员状态已变化，此选项不再适用。列表已更新。',
  'err.RATE_LIMITED': '短时间内下单次数过多。请等待一分钟后再试。',
  'err.PAYMENT_METHOD_DISABLED': '本服务未开通{method}。请选择其他支付方式。',
  'err.ORDER_NOT_PAYABLE': '此订单已无法支付。请重新选择方案。',
  'err.ORDER_ALREADY_PAID': '此订单已经支付。',
  'err.UNAUTHENTICATED': '登录已过期，请刷新页面。',
  'err.FORBIDDEN': '本页面需要通过会员应用登录：演示登录仅在开发环境中可用。',
  'err.NO_TOKEN': '本页面需要登录：请以 /#token=<您的令牌> 打开，或在开发环境中运行服务以使用演示会员。',
  'err.NETWORK': '无法连接到服务。请确认服务正在运行，然后重试。',
  'err.OTHER': '出了点问题，请重试。',
  reference: '参考编号：{id}',
};

/** @typedef {keyof typeof en} Key */
/** @typedef {'en' | 'zh'} Lang */

const STRINGS = { en, zh };
const STORAGE_KEY = 'memberpay.lang';

/** @returns {Lang} */
function initialLang() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    if (/^zh\b/i.test(tag)) return 'zh';
    if (/^en\b/i.test(tag)) return 'en';
  }
  return 'en';
}

/** @type {Lang} */
let lang = initialLang();

export const currentLang = () => lang;

/** @param {Lang} next */
export function setLang(next) {
  lang = next;
  localStorage.setItem(STORAGE_KEY, next);
}

/**
 * @param {Key} key
 * @param {Record<string, string | number>} [vars]
 */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? `{${name}}`));
}
