// Checks the common parameters and the RSA2 signature of a gateway request (docs/alipay.md#common-parameters,
// #request-signatures). Failures are business answers (HTTP 200) with 40001/40002 and an `isv.*` sub_code.
import { parseBeijingDateTime } from '../clock';
import type { SandboxKeys } from '../keys';
import { verifyBase64 } from '../rsa';
import { failure, type AlipayNode } from './reply';

const DAY_MS = 24 * 3600_000;
const REQUIRED: Array<[string, string]> = [
  ['method', 'isv.missing-method'],
  ['sign', 'isv.missing-signature'],
  ['app_id', 'isv.missing-app-id'],
  ['sign_type', 'isv.missing-signature-type'],
  ['timestamp', 'isv.missing-timestamp'],
  ['version', 'isv.missing-version'],
];

/**
 * docs/alipay.md#request-signatures: all parameters but `sign`, empty values dropped, sorted by key, raw `k=v` joined by `&`.
 * Note (docs/alipay.md#sdk): alipay-sdk does not drop empty values, so an SDK call with an empty parameter fails
 * here exactly as it would at the real gateway.
 */
function signedContent(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

export function checkRequest(
  params: Record<string, string>,
  keys: SandboxKeys['alipay'],
  knownMethods: readonly string[],
  now: Date,
): AlipayNode | null {
  for (const [name, subCode] of REQUIRED) {
    if (!params[name]) return failure('40001', subCode, `缺少${name}参数`);
  }
  if (!knownMethods.includes(params.method)) return failure('40002', 'isv.invalid-method', '不存在的方法名');
  if (params.app_id !== keys.appId) return failure('40002', 'isv.invalid-app-id', '无效的AppID参数');
  if (params.sign_type !== 'RSA2') return failure('40002', 'isv.invalid-signature-type', '无效的签名类型');
  if (params.version !== '1.0') return failure('40002', 'isv.invalid-version', '无效的版本号');
  if (params.charset && params.charset.toLowerCase() !== 'utf-8') {
    return failure('40002', 'isv.invalid-charset', '字符集错误');
  }
  if (params.format && params.format.toUpperCase() !== 'JSON') return failure('40002', 'isv.invalid-format', '无效的数据格式');
  // The SDK formats `timestamp` in the process's local zone (docs/alipay.md#sdk) and the gateway's tolerance is
  // not documented (docs/alipay.md#common-parameters): the format is checked strictly, the value within ±1 day of Beijing time.
  const stamp = parseBeijingDateTime(params.timestamp);
  if (!stamp || Math.abs(stamp.getTime() - now.getTime()) > DAY_MS) {
    return failure('40002', 'isv.invalid-timestamp', '非法的时间戳参数');
  }
  const content = signedContent(params);
  if (!verifyBase64(keys.appPublicKey, content, params.sign)) {
    return failure(
      '40002',
      'isv.invalid-signature',
      `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${content}`,
    );
  }
  if (params.notify_url !== undefined && !/^https?:\/\/[^\s]{1,248}$/.test(params.notify_url)) {
    return failure('40002', 'isv.invalid-notify-url', 'notify_url 格式错误');
  }
  return null;
}
