import { createSign, generateKeyPairSync } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import { NotificationRejected } from '../../payment-provider';
import { verifiedAlipayFields } from './alipay.notification';

const alipayKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchantKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: { export(o: object): string | Buffer }, type: string) => k.export({ type, format: 'pem' }).toString();

const sdk = new AlipaySdk({
  appId: '2021000000000001',
  privateKey: pem(merchantKeys.privateKey, 'pkcs8'),
  alipayPublicKey: pem(alipayKeys.publicKey, 'spki'),
  keyType: 'PKCS8',
  signType: 'RSA2',
});

/** A form as Alipay posts it, signed over the sorted key=value pairs of `signed` with Alipay's key. */
function form(fields: Record<string, string>, signed: (f: Record<string, string>) => Record<string, string>): string {
  const content = Object.entries(signed(fields))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const sign = createSign('RSA-SHA256').update(content, 'utf8').sign(alipayKeys.privateKey, 'base64');
  return new URLSearchParams({ ...fields, sign }).toString();
}

const fields = {
  app_id: '2021000000000001',
  out_trade_no: 'MP20261206120000ABCDEFGHJKLM',
  total_amount: '19.90',
  trade_status: 'TRADE_SUCCESS',
  subject: '会员月卡 100% 正品',
  sign_type: 'RSA2',
  notify_time: '2026-12-06 20:00:00',
};
const withoutSignType = ({ sign_type: _dropped, ...rest }: Record<string, string>) => rest;

describe('an Alipay notification signature', () => {
  afterEach(() => jest.restoreAllMocks());

  it('verifies the documented form (sign and sign_type left out) with one RSA check', () => {
    const check = jest.spyOn(sdk, 'rsaCheck');
    expect(verifiedAlipayFields(sdk, form(fields, withoutSignType))).toMatchObject({
      out_trade_no: fields.out_trade_no,
      subject: fields.subject,
    });
    expect(check).toHaveBeenCalledTimes(1);
  });

  it('still accepts what the SDK accepts: a signature over the fields with sign_type kept', () => {
    expect(
      verifiedAlipayFields(
        sdk,
        form(fields, (f) => f),
      ),
    ).toMatchObject({ out_trade_no: fields.out_trade_no });
  });

  it('refuses a changed field, a signature by another key and an unsigned form', () => {
    const tampered = form(fields, withoutSignType).replace('total_amount=19.90', 'total_amount=0.01');
    expect(() => verifiedAlipayFields(sdk, tampered)).toThrow(NotificationRejected);
    const forged = new URLSearchParams({
      ...fields,
      sign: createSign('RSA-SHA256').update('app_id=2021000000000001', 'utf8').sign(merchantKeys.privateKey, 'base64'),
    }).toString();
    expect(() => verifiedAlipayFields(sdk, forged)).toThrow(/does not verify/);
    expect(() => verifiedAlipayFields(sdk, new URLSearchParams(fields).toString())).toThrow(/not signed/);
  });
});
