// The environment a memberpay instance needs to use the sandbox: ids, URLs and key *paths* (never
// key contents, so the values are safe to print). Shared by main.ts (prints it) and launch.ts
// (sets it).
import type { SandboxCredentials } from './index';

export interface ProviderSelection {
  wechat: boolean;
  alipay: boolean;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new Error(`sandbox credentials have no ${name}: start the sandbox with keyDir`);
  return value;
}

/**
 * `notice`: the contract templates' notice mode (docs/contracts.md#when-a-deduction-may-run), WECHAT_PAY_PAPAY_NOTICE
 * of the instance: its plan ids are the sandbox templates of that mode.
 */
export function memberpayEnv(
  creds: SandboxCredentials,
  appPort: string,
  which: ProviderSelection,
  notice: 'wechat' | 'merchant' = 'wechat',
): Record<string, string> {
  const app = `http://127.0.0.1:${appPort}`;
  const env: Record<string, string> = {};
  if (which.wechat) {
    const w = creds.wechat;
    Object.assign(env, {
      WECHAT_PAY_APP_ID: w.appId,
      WECHAT_PAY_MCH_ID: w.mchId,
      WECHAT_PAY_API_V3_KEY: w.apiV3Key,
      WECHAT_PAY_PRIVATE_KEY_PATH: required(w.merchantPrivateKeyPath, 'merchantPrivateKeyPath'),
      WECHAT_PAY_CERT_PATH: required(w.merchantCertPath, 'merchantCertPath'),
      WECHAT_PAY_PUBLIC_KEY_PATH: required(w.publicKeyPath, 'publicKeyPath'),
      WECHAT_PAY_PUBLIC_KEY_ID: w.publicKeyId,
      WECHAT_PAY_PLATFORM_CERT_PATH: required(w.platformCertPath, 'platformCertPath'),
      WECHAT_PAY_BASE_URL: w.baseUrl,
      WECHAT_PAY_NOTIFY_URL: `${app}/api/v1/payment/wechat/callback`,
      // Every phone channel on (docs/channels.md): the app's id, the official account and the
      // mini program for JSAPI, and a page for the browser to come back to after H5.
      WECHAT_PAY_APP_APP_ID: w.appAppId,
      WECHAT_PAY_JSAPI_APP_IDS: `${w.appId},${w.miniProgramAppId}`,
      WECHAT_PAY_H5_REDIRECT_URL: `${w.baseUrl}/sandbox/merchant-return`,
      // Auto-renewal by contract (docs/contracts.md): the API v2 key, a template per plan, the callbacks.
      WECHAT_PAY_API_KEY: w.apiV2Key,
      WECHAT_PAY_PAPAY_PLAN_IDS: Object.entries(w.papayPlans[notice])
        .map(([plan, id]) => `${plan}:${id}`)
        .join(','),
      WECHAT_PAY_PAPAY_NOTICE: notice,
      // The payment and deduction callback (papay-callback) is this URL's sibling by default.
      WECHAT_PAY_CONTRACT_NOTIFY_URL: `${app}/api/v1/payment/wechat/contract-callback`,
    });
  }
  if (which.alipay) {
    const a = creds.alipay;
    Object.assign(env, {
      ALIPAY_APP_ID: a.appId,
      ALIPAY_SELLER_ID: a.sellerId,
      ALIPAY_PRIVATE_KEY: required(a.appPrivateKeyPath, 'appPrivateKeyPath'),
      ALIPAY_PUBLIC_KEY: required(a.alipayPublicKeyPath, 'alipayPublicKeyPath'),
      ALIPAY_GATEWAY: a.gateway,
      ALIPAY_NOTIFY_URL: `${app}/api/v1/payment/alipay/callback`,
      ALIPAY_RETURN_URL: `${app}/payment/return`,
      ALIPAY_CHANNELS: 'app,wap,page',
      ALIPAY_AGREEMENT_SIGN_SCENE: 'INDUSTRY|DIGITAL_MEDIA',
    });
  }
  return env;
}

export function banner(url: string, lines: string[] = []): string {
  const rule = '='.repeat(78);
  return [
    rule,
    '  PAYMENT SANDBOX — emulated WeChat Pay and Alipay. NOT REAL MONEY.',
    `  Sandbox: ${url}   (loopback only; state is in memory)`,
    '  To pay a QR code, open it in a browser:',
    `    ${url}/sandbox/pay?qr=<qr_code_url>`,
    '  or:',
    `    curl -X POST ${url}/sandbox/pay -H 'content-type: application/json' -d '{"qr":"<qr_code_url>"}'`,
    ...lines.map((l) => `  ${l}`),
    rule,
  ].join('\n');
}

const LABEL = { wechat: 'WeChat Pay', alipay: 'Alipay' } as const;

/**
 * Which providers `npm start` emulates. Neither configured: both (the quick start). Both
 * configured: none. One configured and not the other: refused unless PAYMENT_SANDBOX_PROVIDERS
 * names what to emulate (`alipay`, `wechat`, `wechat,alipay` or `none`): a live merchant account
 * silently paired with a fake one is how test payments end up looking real. A string is the refusal.
 */
export function sandboxSelection(env: Record<string, string | undefined>): ProviderSelection | string {
  const configured = { wechat: !!env.WECHAT_PAY_MCH_ID, alipay: !!env.ALIPAY_APP_ID };
  const asked = env.PAYMENT_SANDBOX_PROVIDERS?.trim();
  if (asked) {
    if (!/^(none|(wechat|alipay)(,(wechat|alipay))?)$/.test(asked)) {
      return 'PAYMENT_SANDBOX_PROVIDERS must be wechat, alipay, "wechat,alipay" or none';
    }
    const which = { wechat: asked.includes('wechat'), alipay: asked.includes('alipay') };
    for (const name of ['wechat', 'alipay'] as const) {
      if (which[name] && configured[name])
        return `PAYMENT_SANDBOX_PROVIDERS asks to emulate ${LABEL[name]}, which is configured for real: leave one of the two`;
    }
    return which;
  }
  if (configured.wechat === configured.alipay) return { wechat: !configured.wechat, alipay: !configured.alipay };
  const [real, missing] = configured.wechat ? (['wechat', 'alipay'] as const) : (['alipay', 'wechat'] as const);
  return (
    `${LABEL[real]} is configured and ${LABEL[missing]} is not: set PAYMENT_SANDBOX_PROVIDERS=${missing} to emulate ${LABEL[missing]} ` +
    `beside the real ${LABEL[real]}, or PAYMENT_SANDBOX_PROVIDERS=none to leave ${LABEL[missing]} off`
  );
}
