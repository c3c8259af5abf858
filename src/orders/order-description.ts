/**
 * The order's description, sent to WeChat Pay (`description`) and Alipay (`subject`): what the buyer
 * reads on their WeChat and Alipay bills, so in Chinese, e.g. `基础会员·月度 续费`. One text for both
 * providers, within the tighter of their rules: WeChat Pay takes at most 127 characters, Alipay's
 * subject refuses `/`, `=` and `&` (docs/wechat-pay.md, docs/alipay.md).
 */
export type OrderKind = 'purchase' | 'renewal' | 'upgrade';

const KIND_ZH: Record<OrderKind, string> = { purchase: '开通', renewal: '续费', upgrade: '升级' };
export const DESCRIPTION_MAX_CHARACTERS = 127;

/** With auto-renewal the member signs a contract with the same payment: the bill says so. */
export function orderDescription(plan: { name: string; nameZh?: string | null }, kind: OrderKind, autoRenew = false): string {
  const name = (plan.nameZh?.trim() || plan.name).replace(/[/=&]/g, ' ').replace(/\s+/g, ' ').trim();
  const suffix = ` ${KIND_ZH[kind]}${autoRenew ? '（自动续费）' : ''}`;
  // Characters, not UTF-16 units: a name cut inside a surrogate pair would be malformed text.
  const room = DESCRIPTION_MAX_CHARACTERS - [...suffix].length;
  return `${[...name].slice(0, room).join('')}${suffix}`;
}
