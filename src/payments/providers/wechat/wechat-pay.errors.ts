import { ProviderTimeoutError, ProviderUnavailableError } from '../../../common/errors/domain-error';

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

/** Translates an SDK failure into our two provider errors, once, at the boundary, so no SDK error type leaks inward. */
export function toProviderError(error: unknown, operation: string): Error {
  const e = error as AxiosLike;
  if (TIMEOUT_CODES.has(String(e?.code)) || /timeout/i.test(String(e?.message))) {
    return new ProviderTimeoutError(`WeChat Pay did not answer the ${operation} request in time`);
  }
  const { status, code } = describeFailure(error);
  const detail = [status && `HTTP ${status}`, code].filter(Boolean).join(' ');
  return new ProviderUnavailableError(`WeChat Pay failed the ${operation} request${detail ? ` (${detail})` : ''}`);
}
