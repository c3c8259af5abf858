import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches } from 'class-validator';
import { ConfigError, keyProblem } from '../config-error';
import { emptyToUndefined, IsHttpUrl } from '../env.schema';
import { normalizePrivateKey, normalizePublicKey } from '../key-material';
import { missingWhenConfigured, type ProviderSettings, splitList } from '../provider-settings';

export interface AlipayConfig {
  appId: string;
  privateKeyPem: string;
  alipayPublicKeyPem: string;
  gateway: string;
  notifyUrl?: string;
  returnUrl?: string;
  sellerId?: string;
  /** Channels beyond the QR code whose Alipay products are signed (ALIPAY_CHANNELS). */
  channels: ('app' | 'wap' | 'page')[];
  /** Auto-renewal by agreement (商家扣款, docs/contracts.md#alipay): absent, it is off. */
  agreement?: { signScene: string };
}

/** Alipay OpenAPI's variables (docs/alipay.md), in the order config:check lists them. */
export class AlipayEnv {
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\d{1,32}$/, { message: 'must be the numeric app id' })
  ALIPAY_APP_ID?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() ALIPAY_PRIVATE_KEY?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() ALIPAY_PUBLIC_KEY?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  ALIPAY_GATEWAY?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  ALIPAY_NOTIFY_URL?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsHttpUrl()
  ALIPAY_RETURN_URL?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\d{1,32}$/, { message: 'must be the numeric seller id (2088…)' })
  ALIPAY_SELLER_ID?: string;
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^\s*(app|wap|page)(\s*,\s*(app|wap|page))*\s*$/, { message: 'must list channels among app, wap, page, comma-separated' })
  ALIPAY_CHANNELS?: string;
  // Auto-renewal by agreement (docs/contracts.md#alipay): on when the sign scene is set.
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[A-Z_]+\|[A-Z_]+$/, { message: 'must be an Alipay sign scene such as INDUSTRY|DIGITAL_MEDIA' })
  ALIPAY_AGREEMENT_SIGN_SCENE?: string;
}

const DEFAULT_GATEWAY = 'https://openapi.alipay.com/gateway.do';

export const ALIPAY_SETTINGS: ProviderSettings<AlipayConfig, AlipayEnv> = {
  envPrefix: 'ALIPAY_',
  schema: AlipayEnv,
  secrets: ['ALIPAY_PRIVATE_KEY'],
  build: buildAlipayConfig,
  summary: (c) => ({ appId: c.appId, gateway: c.gateway }),
  notifyUrl: (c) => ['ALIPAY_NOTIFY_URL', c.notifyUrl],
  apiUrl: (c) => ['ALIPAY_GATEWAY', c.gateway],
  providerSandbox: /alipaydev\.com/,
  // Without it, a notification signed by Alipay for another seller of the same app would be honoured.
  productionProblems: (c) =>
    c.sellerId ? [] : [{ variable: 'ALIPAY_SELLER_ID', problem: 'is required in production when Alipay is configured' }],
  checkWarnings: (c) => (c.agreement ? [] : ['auto-renewal is off for Alipay: set ALIPAY_AGREEMENT_SIGN_SCENE (INDUSTRY|DIGITAL_MEDIA)']),
};

function buildAlipayConfig(s: AlipayEnv): AlipayConfig | undefined {
  const named = { ALIPAY_APP_ID: s.ALIPAY_APP_ID, ALIPAY_PRIVATE_KEY: s.ALIPAY_PRIVATE_KEY, ALIPAY_PUBLIC_KEY: s.ALIPAY_PUBLIC_KEY };
  const any = Object.values(named).some(Boolean) || s.ALIPAY_NOTIFY_URL || s.ALIPAY_SELLER_ID;
  if (!any) return undefined;
  const problems = missingWhenConfigured({ ...named, ALIPAY_NOTIFY_URL: s.ALIPAY_NOTIFY_URL }, 'Alipay');
  // memberpay always names its agreements (external_agreement_no), which Alipay refuses under the default scene.
  if (s.ALIPAY_AGREEMENT_SIGN_SCENE === 'DEFAULT|DEFAULT') {
    problems.push({ variable: 'ALIPAY_AGREEMENT_SIGN_SCENE', problem: 'must not be DEFAULT|DEFAULT (use INDUSTRY|DIGITAL_MEDIA)' });
  }
  // Each key is read on its own, so one run names every problem (npm run config:check).
  const read = (variable: string, value: string | undefined, normalize: (v: string) => string): string | undefined => {
    if (!value) return undefined;
    try {
      return keyProblem(variable, () => normalize(value));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
      return undefined;
    }
  };
  const privateKeyPem = read('ALIPAY_PRIVATE_KEY', s.ALIPAY_PRIVATE_KEY, normalizePrivateKey);
  const alipayPublicKeyPem = read('ALIPAY_PUBLIC_KEY', s.ALIPAY_PUBLIC_KEY, normalizePublicKey);
  if (problems.length) throw new ConfigError(problems);
  return {
    appId: s.ALIPAY_APP_ID!,
    privateKeyPem: privateKeyPem!,
    alipayPublicKeyPem: alipayPublicKeyPem!,
    gateway: s.ALIPAY_GATEWAY ?? DEFAULT_GATEWAY,
    notifyUrl: s.ALIPAY_NOTIFY_URL,
    returnUrl: s.ALIPAY_RETURN_URL,
    sellerId: s.ALIPAY_SELLER_ID,
    channels: [...new Set(splitList(s.ALIPAY_CHANNELS))] as AlipayConfig['channels'],
    agreement: s.ALIPAY_AGREEMENT_SIGN_SCENE ? { signScene: s.ALIPAY_AGREEMENT_SIGN_SCENE } : undefined,
  };
}
