import { DomainError } from '../../../common/errors/domain-error';
import { toProviderError } from './wechat-pay.errors';

/** An SDK (axios) failure carrying WeChat Pay's answer. */
const answered = (status: number, data: unknown) =>
  Object.assign(new Error(`Request failed with status code ${status}`), { response: { status, data } });
const codeOf = (e: Error) => (e as DomainError).code;

describe('WeChat Pay failures, translated at the boundary', () => {
  it("is the client's input when WeChat Pay refuses the payer's openid (a 400, PAYER_REFUSED)", () => {
    const mismatch = toProviderError(answered(400, { code: 'PARAM_ERROR', message: 'appid和openid不匹配' }), 'create');
    expect(codeOf(mismatch)).toBe('PAYER_REFUSED');
    expect(mismatch.message).toMatch(/openid/);
    const missing = answered(400, {
      code: 'PARAM_ERROR',
      message: '输入源"/body/payer/openid"映射到值字段"用户标识"字符串规则校验失败',
      detail: { field: '#/payer/openid' },
    });
    expect(codeOf(toProviderError(missing, 'create'))).toBe('PAYER_REFUSED');
  });

  it('is the provider failing for any other refusal, or outside the opening of a payment', () => {
    expect(codeOf(toProviderError(answered(400, { code: 'PARAM_ERROR', detail: { field: '#/amount/total' } }), 'create'))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    expect(codeOf(toProviderError(answered(400, { code: 'INVALID_REQUEST', message: 'openid' }), 'create'))).toBe('PROVIDER_UNAVAILABLE');
    expect(codeOf(toProviderError(answered(500, { code: 'SYSTEM_ERROR', message: 'openid' }), 'create'))).toBe('PROVIDER_UNAVAILABLE');
    expect(codeOf(toProviderError(answered(400, { code: 'PARAM_ERROR', message: 'appid和openid不匹配' }), 'query'))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    expect(codeOf(toProviderError(Object.assign(new Error('timeout of 5000ms exceeded'), { code: 'ECONNABORTED' }), 'create'))).toBe(
      'PROVIDER_TIMEOUT',
    );
  });
});
