import { DomainError, ProviderTimeoutError, ProviderUnavailableError } from '../../../common/errors/domain-error';

export interface WechatFailure {
  status?: number;
  code?: string;
}

interface AxiosLike {
  code?: string;
  message?: string;
  response?: { status?: number; data?: unknown };
}

/** What an SDK failure says, without anything that could carry a secret. */
export function describeFailure(error: unknown): WechatFailure {
  const e = error as AxiosLike;
  const data = e?.response?.data as { code?: unknown } | undefined;
  return {
    status: e?.response?.status,
    code: typeof data?.code === 'string' ? data.code : typeof e?.code === 'string' ? e.code : undefined,
  };
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT']);

/**
 * WeChat Pay's refusal of the payer a JSAPI request named (400 PARAM_ERROR about the openid: none,
 * or not one issued under the app id): the client's input, the only part of the request it chose.
 */
function refusesPayer(error: unknown): boolean {
  const e = error as AxiosLike;
  const data = e?.response?.data as { code?: unknown; message?: unknown; detail?: { field?: unknown } } | undefined;
  if (e?.response?.status !== 400 || data?.code !== 'PARAM_ERROR') return false;
  return [data.message, data.detail?.field].some((v) => typeof v === 'string' && /openid/i.test(v));
}

/**
 * Translates an SDK failure into our provider errors, once, at the boundary, so no SDK error type
 * leaks inward: a timeout, a refusal of the payer the client named (a 4xx: the client's input), or
 * the provider failing.
 */
export function toProviderError(error: unknown, operation: string): Error {
  const e = error as AxiosLike;
  if (TIMEOUT_CODES.has(String(e?.code)) || /timeout/i.test(String(e?.message))) {
    return new ProviderTimeoutError(`WeChat Pay did not answer the ${operation} request in time`);
  }
  if (operation === 'create' && refusesPayer(error)) {
    return new DomainError(
      'PAYER_REFUSED',
      "WeChat Pay refused the payer: openid must be the buyer's openid under the app id the order is paid with (app_id); send that openid, or pay by another channel",
    );
  }
  const { status, code } = describeFailure(error);
  const detail = [status && `HTTP ${status}`, code].filter(Boolean).join(' ');
  return new ProviderUnavailableError(`WeChat Pay failed the ${operation} request${detail ? ` (${detail})` : ''}`);
}
