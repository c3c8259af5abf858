import { DomainError } from '../common/errors/domain-error';
import type { CreateOrderDto } from './dto/create-order.dto';
import { channelOptionsOf, clientIpOf } from './order-channel';

const dto = (extra: Partial<CreateOrderDto>) =>
  ({ product_type: 'membership', product_id: 1, payment_method: 'wechat', ...extra }) as CreateOrderDto;
const details = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as DomainError).details;
  }
  throw new Error('expected a refusal');
};

describe('channel options of create-order', () => {
  const origins = ['https://m.example.com'];

  it('keeps only what the channel reads, camel-cased for the providers', () => {
    expect(channelOptionsOf(dto({ channel: 'jsapi', openid: 'oAbc', app_id: 'wx1234567890' }), 'jsapi', origins)).toEqual({
      openid: 'oAbc',
      appId: 'wx1234567890',
    });
    expect(channelOptionsOf(dto({ channel: 'h5', h5_type: 'iOS', return_url: 'https://m.example.com/done?o=1' }), 'h5', origins)).toEqual({
      h5Type: 'iOS',
      returnUrl: 'https://m.example.com/done?o=1',
    });
    expect(channelOptionsOf(dto({}), 'qr', origins)).toBeNull();
  });

  it('refuses a field its channel does not read', () => {
    expect(details(() => channelOptionsOf(dto({ openid: 'oAbc' }), 'app', origins))).toEqual(['openid applies only to the jsapi channel']);
    expect(details(() => channelOptionsOf(dto({ h5_type: 'Wap' }), 'wap', origins))).toEqual(['h5_type applies only to the h5 channel']);
  });

  it('accepts a return_url only on an allowed origin (scheme, host and port alike)', () => {
    for (const url of [
      'http://m.example.com/done',
      'https://m.example.com:8443/done',
      'https://m.example.com.evil.example/done',
      'https://evil.example/?https://m.example.com',
    ]) {
      expect(details(() => channelOptionsOf(dto({ return_url: url }), 'page', origins))).toEqual([
        'return_url must be on one of the allowed origins: https://m.example.com',
      ]);
    }
    expect(details(() => channelOptionsOf(dto({ return_url: 'https://m.example.com/' }), 'page', []))).toEqual([
      'return_url is not accepted: no origin is allowed (PAYMENT_RETURN_URL_ORIGINS)',
    ]);
  });

  it('reads the peer address as WeChat Pay wants it', () => {
    expect(clientIpOf('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientIpOf('2001:db8::1')).toBe('2001:db8::1');
    expect(clientIpOf(undefined)).toBeUndefined();
  });
});
