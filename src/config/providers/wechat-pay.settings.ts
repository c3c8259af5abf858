import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches } from 'class-validator';
import { createPrivateKey } from 'node:crypto';
import { certificateProblem, ConfigError, type ConfigProblem, keyProblem } from '../config-error';
import { emptyToUndefined, IsHttpUrl } from '../env.schema';
import { certificateSerial, loadPrivateKeyFile, loadPublicKeyFile } from '../key-material';
import { httpsInProduction, missingWhenConfigured, type ProviderSettings, splitList } from '../provider-settings';

export interface WechatPayConfig {
  appId: string;
  mchId: string;
  apiV3Key: string;
  notifyUrl: string;
  /** Where WeChat Pay posts refund results (sent as the refund's notify_url). */
  refundNotifyUrl: string;
  privateKeyPem: string;
  /** Serial of the merchant API certificate, sent as serial_no in Authorization. */
  certSerial: string;
  /** Keys that verify WeChat Pay, by the exact Wechatpay-Serial value (cert serial or PUB_KEY_ID_…). */
  verifiers: Record<string, string>;
  baseUrl: string;
  /** The mobile app's id at the WeChat Open Platform: turns the APP channel on. */
  appAppId?: string;
  /** Official account / mini program app ids whose openids may pay by JSAPI (the first is the default). */
  jsapiAppIds: string[];
  /** Where WeChat sends the phone browser back after H5: turns the H5 channel on. */
  h5RedirectUrl?: string;
  /** Auto-renewal by contract (docs/contracts.md): absent, it is off. */
  papay?: WechatPapayConfig;
}

/** WeChat Pay 委托代扣, API v2 (docs/contracts.md#wechat-pay). */
export interface WechatPapayConfig {
  /** The API v2 key: signs the v2 calls and verifies their answers and callbacks. */
  apiV2Key: string;
  /** Contract template (plan_id) by plan code. */
  planIds: Record<string, string>;
  /** Where sign and unsign results are posted (contract_notify_url). */
  contractNotifyUrl: string;
  /** Where pay-and-sign payments and deductions report (their notify_url). */
  papayNotifyUrl: string;
  /** Who tells the member before a deduction: WeChat itself, or the merchant's v3 notice. */
  notice: 'wechat' | 'merchant';
}

/** WeChat Pay API v3's variables (docs/wechat-pay.md), in the order config:check lists them. */
export class WechatPayEnv {
  @Transform(emptyToUndefined) @IsOptional() @IsString() WECHAT_PAY_APP_ID?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\d{1,32}$/, { message: 'must be the numeric merchant id' })
  WECHAT_PAY_MCH_ID?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() WECHAT_PAY_API_V3_KEY?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  WECHAT_PAY_NOTIFY_URL?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() WECHAT_PAY_PRIVATE_KEY_PATH?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() WECHAT_PAY_CERT_PATH?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[0-9A-Fa-f]{8,64}$/, { message: 'must be the hexadecimal certificate serial' })
  WECHAT_PAY_CERT_SERIAL_NO?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() WECHAT_PAY_PUBLIC_KEY_PATH?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^PUB_KEY_ID_\w+$/, { message: 'must start with PUB_KEY_ID_' })
  WECHAT_PAY_PUBLIC_KEY_ID?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() WECHAT_PAY_PLATFORM_CERT_PATH?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  WECHAT_PAY_BASE_URL?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() WECHAT_PAY_API_KEY?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  WECHAT_PAY_REFUND_NOTIFY_URL?: string;
  // Phone channels (docs/channels.md): each one is on when its variable is set.
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^wx[0-9A-Za-z]{8,30}$/, { message: 'must be an app id (wx…)' })
  WECHAT_PAY_APP_APP_ID?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^wx[0-9A-Za-z]{8,30}(\s*,\s*wx[0-9A-Za-z]{8,30})*$/, { message: 'must be app ids (wx…), comma-separated' })
  WECHAT_PAY_JSAPI_APP_IDS?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  WECHAT_PAY_H5_REDIRECT_URL?: string;
  // Auto-renewal by contract (docs/contracts.md): on when the plan templates and the contract callback are set.
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\s*[a-z0-9_]+\s*:\s*\d{1,20}(\s*,\s*[a-z0-9_]+\s*:\s*\d{1,20})*\s*$/, {
    message: 'must map plan codes to template ids: basic_monthly:12535,premium_monthly:12536',
  })
  WECHAT_PAY_PAPAY_PLAN_IDS?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  WECHAT_PAY_CONTRACT_NOTIFY_URL?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  WECHAT_PAY_PAPAY_NOTIFY_URL?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(wechat|merchant)$/, { message: 'must be wechat or merchant' })
  WECHAT_PAY_PAPAY_NOTICE?: string;
}

const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';

export const WECHAT_PAY_SETTINGS: ProviderSettings<WechatPayConfig, WechatPayEnv> = {
  envPrefix: 'WECHAT_PAY_',
  schema: WechatPayEnv,
  secrets: ['WECHAT_PAY_API_V3_KEY', 'WECHAT_PAY_API_KEY'],
  build: buildWechatPayConfig,
  summary: (c) => ({ appId: c.appId, mchId: c.mchId, baseUrl: c.baseUrl }),
  notifyUrl: (c) => ['WECHAT_PAY_NOTIFY_URL', c.notifyUrl],
  apiUrl: (c) => ['WECHAT_PAY_BASE_URL', c.baseUrl],
  productionProblems: (c) => [
    ...httpsInProduction('WECHAT_PAY_REFUND_NOTIFY_URL', c.refundNotifyUrl),
    ...httpsInProduction('WECHAT_PAY_CONTRACT_NOTIFY_URL', c.papay?.contractNotifyUrl),
    ...httpsInProduction('WECHAT_PAY_PAPAY_NOTIFY_URL', c.papay?.papayNotifyUrl),
  ],
  checkWarnings: (c) => {
    const out: string[] = [];
    if (c.h5RedirectUrl && !c.h5RedirectUrl.startsWith('https://'))
      out.push('WECHAT_PAY_H5_REDIRECT_URL is not https: WeChat Pay sends phone browsers there');
    if (!c.papay)
      out.push('auto-renewal is off for WeChat Pay: set WECHAT_PAY_API_KEY, WECHAT_PAY_PAPAY_PLAN_IDS and WECHAT_PAY_CONTRACT_NOTIFY_URL');
    if (c.jsapiAppIds.length && !c.jsapiAppIds.includes(c.appId)) {
      out.push('WECHAT_PAY_JSAPI_APP_IDS does not include WECHAT_PAY_APP_ID: fine when JSAPI runs only in mini programs');
    }
    return out;
  },
};

function buildWechatPayConfig(s: WechatPayEnv): WechatPayConfig | undefined {
  const named = {
    WECHAT_PAY_APP_ID: s.WECHAT_PAY_APP_ID,
    WECHAT_PAY_MCH_ID: s.WECHAT_PAY_MCH_ID,
    WECHAT_PAY_API_V3_KEY: s.WECHAT_PAY_API_V3_KEY,
    WECHAT_PAY_NOTIFY_URL: s.WECHAT_PAY_NOTIFY_URL,
    WECHAT_PAY_PRIVATE_KEY_PATH: s.WECHAT_PAY_PRIVATE_KEY_PATH,
  };
  const any =
    Object.values(named).some(Boolean) ||
    s.WECHAT_PAY_CERT_PATH ||
    s.WECHAT_PAY_PUBLIC_KEY_PATH ||
    s.WECHAT_PAY_PLATFORM_CERT_PATH ||
    s.WECHAT_PAY_PUBLIC_KEY_ID;
  if (!any) return undefined;
  const problems: ConfigProblem[] = missingWhenConfigured(named, 'WeChat Pay');
  if (s.WECHAT_PAY_API_V3_KEY && Buffer.byteLength(s.WECHAT_PAY_API_V3_KEY) !== 32) {
    problems.push({ variable: 'WECHAT_PAY_API_V3_KEY', problem: 'must be exactly 32 bytes' });
  }
  if (!s.WECHAT_PAY_CERT_PATH && !s.WECHAT_PAY_CERT_SERIAL_NO) {
    problems.push({ variable: 'WECHAT_PAY_CERT_PATH', problem: 'or WECHAT_PAY_CERT_SERIAL_NO is required' });
  }
  if (!!s.WECHAT_PAY_PUBLIC_KEY_PATH !== !!s.WECHAT_PAY_PUBLIC_KEY_ID) {
    problems.push({ variable: 'WECHAT_PAY_PUBLIC_KEY_ID', problem: 'and WECHAT_PAY_PUBLIC_KEY_PATH must be set together' });
  }
  if (!s.WECHAT_PAY_PUBLIC_KEY_PATH && !s.WECHAT_PAY_PLATFORM_CERT_PATH) {
    problems.push({ variable: 'WECHAT_PAY_PUBLIC_KEY_PATH', problem: 'or WECHAT_PAY_PLATFORM_CERT_PATH is required to verify WeChat Pay' });
  }
  if (s.WECHAT_PAY_NOTIFY_URL && new URL(s.WECHAT_PAY_NOTIFY_URL).search) {
    problems.push({ variable: 'WECHAT_PAY_NOTIFY_URL', problem: 'must not carry a query string' });
  }
  if (s.WECHAT_PAY_REFUND_NOTIFY_URL && new URL(s.WECHAT_PAY_REFUND_NOTIFY_URL).search) {
    problems.push({ variable: 'WECHAT_PAY_REFUND_NOTIFY_URL', problem: 'must not carry a query string' });
  }
  const papay = buildPapayConfig(s, problems);
  // Each file is read and checked on its own, so one run names every problem (npm run config:check).
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
      return undefined;
    }
  };
  const privateKeyPem = s.WECHAT_PAY_PRIVATE_KEY_PATH
    ? attempt(() => keyProblem('WECHAT_PAY_PRIVATE_KEY_PATH', () => loadPrivateKeyFile(s.WECHAT_PAY_PRIVATE_KEY_PATH!)))
    : undefined;
  let certSerial = s.WECHAT_PAY_CERT_SERIAL_NO?.toUpperCase();
  const cert = s.WECHAT_PAY_CERT_PATH ? attempt(() => certificateProblem('WECHAT_PAY_CERT_PATH', s.WECHAT_PAY_CERT_PATH!)) : undefined;
  if (cert) {
    const serial = certificateSerial(cert);
    if (certSerial && certSerial !== serial) {
      problems.push({ variable: 'WECHAT_PAY_CERT_SERIAL_NO', problem: 'differs from the serial of WECHAT_PAY_CERT_PATH' });
    }
    if (privateKeyPem && !cert.checkPrivateKey(createPrivateKey(privateKeyPem))) {
      problems.push({ variable: 'WECHAT_PAY_PRIVATE_KEY_PATH', problem: 'does not match the certificate WECHAT_PAY_CERT_PATH' });
    }
    certSerial = serial;
  }
  const verifiers: Record<string, string> = {};
  if (s.WECHAT_PAY_PUBLIC_KEY_PATH) {
    const key = attempt(() => keyProblem('WECHAT_PAY_PUBLIC_KEY_PATH', () => loadPublicKeyFile(s.WECHAT_PAY_PUBLIC_KEY_PATH!)));
    if (key && s.WECHAT_PAY_PUBLIC_KEY_ID) verifiers[s.WECHAT_PAY_PUBLIC_KEY_ID] = key;
  }
  for (const path of splitList(s.WECHAT_PAY_PLATFORM_CERT_PATH)) {
    const platform = attempt(() => certificateProblem('WECHAT_PAY_PLATFORM_CERT_PATH', path));
    if (platform) verifiers[certificateSerial(platform)] = platform.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    appId: s.WECHAT_PAY_APP_ID!,
    mchId: s.WECHAT_PAY_MCH_ID!,
    apiV3Key: s.WECHAT_PAY_API_V3_KEY!,
    notifyUrl: s.WECHAT_PAY_NOTIFY_URL!,
    // The refund callback is the payment callback's sibling (…/wechat/callback → …/wechat/refund-callback)
    // unless set on its own.
    refundNotifyUrl: s.WECHAT_PAY_REFUND_NOTIFY_URL ?? new URL('refund-callback', s.WECHAT_PAY_NOTIFY_URL!).toString(),
    privateKeyPem: privateKeyPem!,
    certSerial: certSerial!,
    verifiers,
    baseUrl: (s.WECHAT_PAY_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, ''),
    appAppId: s.WECHAT_PAY_APP_APP_ID,
    jsapiAppIds: splitList(s.WECHAT_PAY_JSAPI_APP_IDS),
    h5RedirectUrl: s.WECHAT_PAY_H5_REDIRECT_URL,
    papay,
  };
}

/**
 * The contract settings, when the templates or the contract callback are given (the API v2 key alone,
 * long accepted and unused, turns nothing on). Problems are added to `problems`.
 */
function buildPapayConfig(s: WechatPayEnv, problems: ConfigProblem[]): WechatPapayConfig | undefined {
  if (!s.WECHAT_PAY_PAPAY_PLAN_IDS && !s.WECHAT_PAY_CONTRACT_NOTIFY_URL) return undefined;
  const named = {
    WECHAT_PAY_API_KEY: s.WECHAT_PAY_API_KEY,
    WECHAT_PAY_PAPAY_PLAN_IDS: s.WECHAT_PAY_PAPAY_PLAN_IDS,
    WECHAT_PAY_CONTRACT_NOTIFY_URL: s.WECHAT_PAY_CONTRACT_NOTIFY_URL,
  };
  const missing = missingWhenConfigured(named, 'WeChat Pay auto-renewal');
  problems.push(...missing);
  if (s.WECHAT_PAY_API_KEY && !/^[0-9A-Za-z]{32}$/.test(s.WECHAT_PAY_API_KEY)) {
    problems.push({ variable: 'WECHAT_PAY_API_KEY', problem: 'must be the 32-character API v2 key' });
  }
  for (const variable of ['WECHAT_PAY_CONTRACT_NOTIFY_URL', 'WECHAT_PAY_PAPAY_NOTIFY_URL'] as const) {
    if (s[variable] && new URL(s[variable]).search) problems.push({ variable, problem: 'must not carry a query string' });
  }
  if (missing.length || problems.length) return undefined;
  const planIds = Object.fromEntries(
    splitList(s.WECHAT_PAY_PAPAY_PLAN_IDS).map((pair) => pair.split(':').map((part) => part.trim()) as [string, string]),
  );
  const contractNotifyUrl = s.WECHAT_PAY_CONTRACT_NOTIFY_URL!;
  return {
    apiV2Key: s.WECHAT_PAY_API_KEY!,
    planIds,
    contractNotifyUrl,
    // The payment and deduction callback is the contract callback's sibling unless set on its own.
    papayNotifyUrl: s.WECHAT_PAY_PAPAY_NOTIFY_URL ?? new URL('papay-callback', contractNotifyUrl).toString(),
    notice: s.WECHAT_PAY_PAPAY_NOTICE === 'merchant' ? 'merchant' : 'wechat',
  };
}
