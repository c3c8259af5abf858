import { DESCRIPTION_MAX_CHARACTERS, orderDescription } from './order-description';

describe('orderDescription', () => {
  it('names the plan in Chinese with the kind of purchase', () => {
    const plan = { name: 'Basic, monthly', nameZh: '基础会员·月度' };
    expect(orderDescription(plan, 'renewal')).toBe('基础会员·月度 续费');
    expect(orderDescription(plan, 'purchase')).toBe('基础会员·月度 开通');
    expect(orderDescription({ name: 'Premium, yearly', nameZh: '高级会员·年度' }, 'upgrade')).toBe('高级会员·年度 升级');
  });

  it('says when the order signs auto-renewal', () => {
    expect(orderDescription({ name: 'Basic, monthly', nameZh: '基础会员·月度' }, 'purchase', true)).toBe('基础会员·月度 开通（自动续费）');
    const long = orderDescription({ name: 'x', nameZh: '会'.repeat(200) }, 'renewal', true);
    expect([...long].length).toBe(DESCRIPTION_MAX_CHARACTERS);
    expect(long.endsWith(' 续费（自动续费）')).toBe(true);
  });

  it('falls back to the plan name when it has no Chinese one', () => {
    expect(orderDescription({ name: 'Family, monthly', nameZh: null }, 'purchase')).toBe('Family, monthly 开通');
  });

  it("keeps within WeChat Pay's 127 characters (counted as characters) and Alipay's forbidden / = &", () => {
    const long = orderDescription({ name: 'x', nameZh: `${'会'.repeat(200)}😀` }, 'renewal');
    expect([...long].length).toBe(DESCRIPTION_MAX_CHARACTERS);
    expect(long.endsWith(' 续费')).toBe(true);
    const emoji = orderDescription({ name: 'x', nameZh: '😀'.repeat(200) }, 'renewal');
    expect([...emoji].every((c) => c === '😀' || c === ' ' || c === '续' || c === '费')).toBe(true);
    expect(orderDescription({ name: 'A/B = C & D' }, 'purchase')).toBe('A B C D 开通');
  });
});
