// The WeChat Pay notification pipeline on hand-made notifications: signed and sealed here with
// node:crypto (not with the code under test), then spoiled one step at a time.
import { createCipheriv, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { WechatPayConfig } from '../../../config/providers/wechat-pay.settings';
import { NotificationRejected, type RawNotification } from '../../payment-provider';
import {
  CLOCK_WINDOW_SECONDS,
  namedWechatPaymentNo,
  verifyWechatNotification,
  verifyWechatRefundNotification,
} from './wechat-pay.notification';

const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SERIAL = 'PUB_KEY_ID_0114232134912410000000000000';
const API_V3_KEY = 'a'.repeat(16) + 'B'.repeat(16);
const NOW = new Date('2026-11-29T08:00:00Z');
const config = {
  appId: 'wx0000000000000001',
  mchId: '1900000001',
  apiV3Key: API_V3_KEY,
  jsapiAppIds: ['wx0000000000000002'],
} as WechatPayConfig;
const verifiers = { [SERIAL]: platform.publicKey };

const transaction = (over: Record<string, unknown> = {}) => ({
  appid: config.appId,
  mchid: config.mchId,
  out_trade_no: 'MP20261129160000ABCDEFGHJKLM',
  transaction_id: '4200000000000000000000000001',
  trade_state: 'SUCCESS',
  amount: { total: 1990, payer_total: 1990, currency: 'CNY', payer_currency: 'CNY' },
  ...over,
});

function seal(plaintext: string, key = API_V3_KEY) {
  const nonce = randomBytes(6).toString('hex');
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(nonce));
  cipher.setAAD(Buffer.from('transaction'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
  return { algorithm: 'AEAD_AES_256_GCM', ciphertext, nonce, associated_data: 'transaction', original_type: 'transaction' };
}

interface Options {
  resource?: unknown;
  body?: string;
  timestamp?: number;
  signWith?: typeof platform.privateKey;
  serial?: string;
  signature?: string;
  key?: string;
}

function notification(o: Options = {}): RawNotification {
  const body =
    o.body ??
    JSON.stringify({
      id: 'EV-1',
      create_time: NOW.toISOString(),
      event_type: 'TRANSACTION.SUCCESS',
      resource_type: 'encrypt-resource',
      resource: seal(JSON.stringify(o.resource ?? transaction()), o.key),
    });
  const timestamp = String(o.timestamp ?? Math.floor(NOW.getTime() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const signature =
    o.signature ??
    createSign('RSA-SHA256')
      .update(`${timestamp}\n${nonce}\n${body}\n`)
      .sign(o.signWith ?? platform.privateKey, 'base64');
  return {
    rawBody: Buffer.from(body),
    headers: {
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': o.serial ?? SERIAL,
    },
  };
}

const reason = (raw: RawNotification): string => {
  try {
    verifyWechatNotification(raw, config, verifiers, NOW);
  } catch (e) {
    if (e instanceof NotificationRejected) return e.reason;
    throw e;
  }
  return 'accepted';
};

describe('verifyWechatNotification', () => {
  it('accepts a signed, fresh, sealed notification for our app and merchant, and opens it', () => {
    const opened = verifyWechatNotification(notification(), config, verifiers, NOW);
    expect(opened).toMatchObject({
      eventId: 'EV-1',
      eventType: 'TRANSACTION.SUCCESS',
      tx: { out_trade_no: 'MP20261129160000ABCDEFGHJKLM', amount: { total: 1990 } },
    });
  });

  it('accepts a payment of another app id we configured (JSAPI)', () => {
    expect(reason(notification({ resource: transaction({ appid: 'wx0000000000000002' }) }))).toBe('accepted');
  });

  it('checks the exact bytes received: a re-serialised body no longer verifies', () => {
    const raw = notification();
    const reformatted = JSON.stringify(JSON.parse(raw.rawBody.toString()), null, 1);
    expect(reason({ ...raw, rawBody: Buffer.from(reformatted) })).toBe('BAD_SIGNATURE');
  });

  it.each([
    [
      'a missing header',
      () => {
        const raw = notification();
        delete raw.headers['wechatpay-nonce'];
        return raw;
      },
      'HEADERS_INCOMPLETE',
    ],
    [
      'a repeated signature header',
      () => {
        const raw = notification();
        raw.headers['wechatpay-signature'] = ['a', 'b'];
        return raw;
      },
      'HEADERS_INCOMPLETE',
    ],
    ['a probe signature', () => notification({ signature: 'WECHATPAY/SIGNTEST/abc' }), 'PROBE_SIGNATURE'],
    ['an unknown key id', () => notification({ serial: 'PUB_KEY_ID_unknown' }), 'UNKNOWN_SERIAL'],
    [
      'a timestamp at the edge of the window',
      () => notification({ timestamp: NOW.getTime() / 1000 - CLOCK_WINDOW_SECONDS }),
      'STALE_TIMESTAMP',
    ],
    ['a timestamp from the future', () => notification({ timestamp: NOW.getTime() / 1000 + CLOCK_WINDOW_SECONDS }), 'STALE_TIMESTAMP'],
    ['a signature by another key', () => notification({ signWith: stranger.privateKey }), 'BAD_SIGNATURE'],
    ['a body that is not JSON (signed)', () => notification({ body: 'not json' }), 'MALFORMED_BODY'],
    ['a resource sealed with another key', () => notification({ key: 'z'.repeat(32) }), 'DECRYPTION_FAILED'],
    ['another merchant', () => notification({ resource: transaction({ mchid: '1900000002' }) }), 'WRONG_MCHID'],
    ['another app', () => notification({ resource: transaction({ appid: 'wx9999999999999999' }) }), 'WRONG_APP_ID'],
    ['no out_trade_no', () => notification({ resource: transaction({ out_trade_no: '' }) }), 'MALFORMED_RESOURCE'],
  ])('rejects %s', (_what, make, expected) => {
    expect(reason(make())).toBe(expected);
  });

  it('is just inside the window one second before its edge', () => {
    expect(reason(notification({ timestamp: NOW.getTime() / 1000 - CLOCK_WINDOW_SECONDS + 1 }))).toBe('accepted');
  });
});

describe('verifyWechatRefundNotification', () => {
  it('opens a refund the same way (no app id in a refund) and requires its out_refund_no', () => {
    const refund = {
      mchid: config.mchId,
      out_trade_no: 'MP1',
      out_refund_no: 'RF1',
      refund_status: 'SUCCESS',
      amount: { refund: 700, total: 1990 },
    };
    expect(verifyWechatRefundNotification(notification({ resource: refund }), config, verifiers, NOW).refund).toMatchObject({
      out_refund_no: 'RF1',
    });
    expect(() =>
      verifyWechatRefundNotification(notification({ resource: { ...refund, out_refund_no: undefined } }), config, verifiers, NOW),
    ).toThrow(expect.objectContaining({ reason: 'MALFORMED_RESOURCE' }));
  });
});

describe('the payment number a refused WeChat Pay notification names', () => {
  it('is read from a resource sealed with our API v3 key, whatever the signature or the timestamp', () => {
    const forged = notification({ signWith: stranger.privateKey, timestamp: Math.floor(NOW.getTime() / 1000) - 3600 });
    expect(() => verifyWechatNotification(forged, config, verifiers, NOW)).toThrow(NotificationRejected);
    expect(namedWechatPaymentNo(forged, config)).toBe('MP20261129160000ABCDEFGHJKLM');
  });

  it('is null for a resource sealed with another key, garbage, a resource without one, or a body far too large', () => {
    expect(namedWechatPaymentNo(notification({ key: 'z'.repeat(32) }), config)).toBeNull();
    expect(namedWechatPaymentNo(notification({ body: 'not json' }), config)).toBeNull();
    expect(namedWechatPaymentNo(notification({ body: '{"resource":{"ciphertext":"AAAA","nonce":"n"}}' }), config)).toBeNull();
    expect(namedWechatPaymentNo(notification({ resource: transaction({ out_trade_no: 42 }) }), config)).toBeNull();
    const huge = notification({ resource: transaction({ attach: 'x'.repeat(20_000) }) });
    expect(namedWechatPaymentNo(huge, config)).toBeNull();
  });
});
