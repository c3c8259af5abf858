import { createVerify, generateKeyPairSync } from 'node:crypto';
import { appPayParams, h5PayUrl, jsapiPayParams } from './wechat-pay.client-params';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const verifies = (message: string, signature: string) => createVerify('RSA-SHA256').update(message).verify(publicKey, signature, 'base64');

describe('what WeChat clients pay with', () => {
  it('signs the APP PayReq over appid, timestamp, noncestr and prepayid, each ending in a line feed', () => {
    const p = appPayParams('wxapp0000000001', '1900000109', 'wx2026112918000012345678', privateKey);
    expect(p).toMatchObject({
      appid: 'wxapp0000000001',
      partnerid: '1900000109',
      prepayid: 'wx2026112918000012345678',
      package: 'Sign=WXPay',
    });
    expect(p.noncestr).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(p.timestamp).toMatch(/^\d{10}$/);
    expect(verifies(`${p.appid}\n${p.timestamp}\n${p.noncestr}\n${p.prepayid}\n`, p.sign)).toBe(true);
    expect(verifies(`${p.appid}\n${p.timestamp}\n${p.noncestr}\n${p.prepayid}`, p.sign)).toBe(false);
  });

  it('signs the JSAPI request over appId, timeStamp, nonceStr and package', () => {
    const p = jsapiPayParams('wxmp00000000001', 'wx2026112918000012345678', privateKey);
    expect(p).toMatchObject({ appId: 'wxmp00000000001', package: 'prepay_id=wx2026112918000012345678', signType: 'RSA' });
    expect(verifies(`${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`, p.paySign)).toBe(true);
  });

  it('appends the redirect_url to an h5_url, URL-encoded', () => {
    expect(h5PayUrl('https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2', 'https://m.example.com/paid?o=1')).toBe(
      'https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2&redirect_url=https%3A%2F%2Fm.example.com%2Fpaid%3Fo%3D1',
    );
    expect(h5PayUrl('https://wx.tenpay.com/x?prepay_id=wx1')).toBe('https://wx.tenpay.com/x?prepay_id=wx1');
  });
});
