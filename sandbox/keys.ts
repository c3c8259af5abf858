// The sandbox's key material. Five RSA-2048 pairs, all made here:
// - the merchant API key (memberpay signs requests; the sandbox verifies with its public half),
// - the WeChat Pay public key and the WeChat Pay platform-certificate key (the sandbox signs answers
//   and notifications; memberpay verifies) — two different keys, as in the real migration (docs/wechat-pay.md#verification-keys),
// - the Alipay app key (memberpay signs; the sandbox verifies) and the "Alipay" key (the sandbox
//   signs; memberpay verifies) (docs/alipay.md#request-signatures, #answer-signatures, #notification-signatures).
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { selfSignedCertificate } from './certs';
import { certificateSerial, randomAlnum, randomDigits } from './ids';

const generateRsa = promisify(generateKeyPair);

const WECHAT_APP_ID = 'wxd930ea5d5a258f4f';
const WECHAT_MCH_ID = '1900000109';
/** The merchant's mobile app (Open Platform) and mini program, bound to the same merchant id. */
const WECHAT_APP_APP_ID = 'wx2421b1c4370ec43b';
const WECHAT_MINI_PROGRAM_APP_ID = 'wx8888888888888888';
const ALIPAY_APP_ID = '2021000000000001';
const ALIPAY_SELLER_ID = '2088000000000001';

/** Who tells the member before a deduction: WeChat itself, or the merchant through the v3 notice. */
export type PapayNoticeMode = 'wechat' | 'merchant';

/**
 * The sandbox merchant's contract templates, one per plan and notice mode. A real template is granted
 * by WeChat with its mode fixed; here the mode is read from the plan_id: 1253x notify by WeChat,
 * 2253x need the merchant's notice.
 */
const PLAN_CODES = ['basic_monthly', 'basic_quarterly', 'basic_yearly', 'premium_monthly', 'premium_quarterly', 'premium_yearly'];
const PAPAY_PLANS: Record<PapayNoticeMode, Record<string, string>> = {
  wechat: Object.fromEntries(PLAN_CODES.map((code, i) => [code, String(12535 + i)])),
  merchant: Object.fromEntries(PLAN_CODES.map((code, i) => [code, String(22535 + i)])),
};

export function noticeModeOf(planId: string): PapayNoticeMode | null {
  if (Object.values(PAPAY_PLANS.wechat).includes(planId)) return 'wechat';
  if (Object.values(PAPAY_PLANS.merchant).includes(planId)) return 'merchant';
  return null;
}

export type PemName =
  | 'merchantKey'
  | 'merchantCert'
  | 'wechatpayPublicKey'
  | 'wechatpayPrivateKey'
  | 'platformCert'
  | 'platformPrivateKey'
  | 'appPrivateKey'
  | 'alipayPublicKey'
  | 'alipayPrivateKey';

/** Everything that is persisted: PEM texts and the ids bound to them. */
export interface KeySet {
  apiV3Key: string;
  /** The API v2 key (32 characters): signs the contract (papay) calls and callbacks (docs/contracts.md). */
  apiV2Key: string;
  merchantCertSerial: string;
  publicKeyId: string;
  platformCertSerial: string;
  pems: Record<PemName, string>;
}

/** Key objects ready for signing and verifying. */
export interface SandboxKeys {
  set: KeySet;
  paths?: Record<PemName, string>;
  wechat: {
    appId: string;
    mchId: string;
    apiV3Key: string;
    apiV2Key: string;
    /** Contract templates (plan_id) by plan code, per notice mode (docs/contracts.md#when-a-deduction-may-run). */
    papayPlans: Record<PapayNoticeMode, Record<string, string>>;
    /** The APP channel's app id and the mini program's; with appId, every app id bound to the merchant. */
    appAppId: string;
    miniProgramAppId: string;
    boundAppIds: readonly string[];
    merchantCertSerial: string;
    merchantPublicKey: KeyObject;
    publicKeyId: string;
    publicKeySigner: KeyObject;
    platformCertSerial: string;
    platformSigner: KeyObject;
  };
  alipay: { appId: string; sellerId: string; appPublicKey: KeyObject; alipaySigner: KeyObject };
}

async function rsaPair(): Promise<{ publicKey: string; privateKey: string }> {
  return generateRsa('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

export async function generateKeySet(): Promise<KeySet> {
  const [merchant, wechatpay, platform, app, alipay] = await Promise.all([1, 2, 3, 4, 5].map(() => rsaPair()));
  const merchantCertSerial = certificateSerial();
  const platformCertSerial = certificateSerial();
  return {
    apiV3Key: randomAlnum(32),
    apiV2Key: randomAlnum(32),
    merchantCertSerial,
    publicKeyId: `PUB_KEY_ID_${randomDigits(28)}`,
    platformCertSerial,
    pems: {
      merchantKey: merchant.privateKey,
      merchantCert: selfSignedCertificate({
        privateKeyPem: merchant.privateKey,
        publicKeyPem: merchant.publicKey,
        serialHex: merchantCertSerial,
        commonName: WECHAT_MCH_ID,
        organization: 'memberpay sandbox merchant',
        validYears: 5,
      }),
      wechatpayPublicKey: wechatpay.publicKey,
      wechatpayPrivateKey: wechatpay.privateKey,
      platformCert: selfSignedCertificate({
        privateKeyPem: platform.privateKey,
        publicKeyPem: platform.publicKey,
        serialHex: platformCertSerial,
        commonName: 'Tenpay.com Sandbox Platform',
        organization: 'memberpay sandbox WeChat Pay',
        validYears: 5,
      }),
      platformPrivateKey: platform.privateKey,
      appPrivateKey: app.privateKey,
      alipayPublicKey: alipay.publicKey,
      alipayPrivateKey: alipay.privateKey,
    },
  };
}

export function toSandboxKeys(set: KeySet, paths?: Record<PemName, string>): SandboxKeys {
  const { pems } = set;
  return {
    set,
    paths,
    wechat: {
      appId: WECHAT_APP_ID,
      mchId: WECHAT_MCH_ID,
      appAppId: WECHAT_APP_APP_ID,
      miniProgramAppId: WECHAT_MINI_PROGRAM_APP_ID,
      boundAppIds: [WECHAT_APP_ID, WECHAT_APP_APP_ID, WECHAT_MINI_PROGRAM_APP_ID],
      apiV3Key: set.apiV3Key,
      apiV2Key: set.apiV2Key,
      papayPlans: PAPAY_PLANS,
      merchantCertSerial: set.merchantCertSerial,
      merchantPublicKey: createPublicKey(pems.merchantKey),
      publicKeyId: set.publicKeyId,
      publicKeySigner: createPrivateKey(pems.wechatpayPrivateKey),
      platformCertSerial: set.platformCertSerial,
      platformSigner: createPrivateKey(pems.platformPrivateKey),
    },
    alipay: {
      appId: ALIPAY_APP_ID,
      sellerId: ALIPAY_SELLER_ID,
      appPublicKey: createPublicKey(pems.appPrivateKey),
      alipaySigner: createPrivateKey(pems.alipayPrivateKey),
    },
  };
}

let stranger: Promise<KeyObject> | undefined;

/** A key nobody has configured, for `wrong-key` tampering; made on first use only. */
export function strangerKey(): Promise<KeyObject> {
  stranger ??= rsaPair().then((pair) => createPrivateKey(pair.privateKey));
  return stranger;
}
