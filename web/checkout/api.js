// @ts-check
// The REST client: bearer token, the project's error format ({ statusCode, code, message, requestId })
// turned into ApiError, and the server's clock read from each answer's Date header so that QR
// countdowns follow the server's time, not a possibly wrong clock on this device.

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {string | undefined} requestId */
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** Fetch itself failed: the service is down or unreachable. */
export class NetworkError extends Error {}

let clockSkewMs = 0;
/** The server's current time in ms, as best known. */
export const serverNow = () => Date.now() + clockSkewMs;

/** @param {Response} res */
function readClock(res) {
  const date = Date.parse(res.headers.get('date') ?? '');
  // The Date header has 1 s resolution: ignore differences that small.
  if (!Number.isNaN(date)) clockSkewMs = Math.abs(date - Date.now()) > 1500 ? date - Date.now() : 0;
}

/**
 * @param {() => string | null} getToken
 * @param {() => Promise<boolean>} renewToken resolves true when a new token was obtained
 */
export function createApi(getToken, renewToken) {
  /**
   * @param {string} method @param {string} path @param {unknown} [body] @param {Record<string, string>} [headers]
   * @returns {Promise<any>}
   */
  async function request(method, path, body, headers = {}, retried = false) {
    const token = getToken();
    let res;
    try {
      res = await fetch(path, {
        method,
        headers: {
          Accept: 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new NetworkError('fetch failed');
    }
    readClock(res);
    const text = await res.text();
    /** @type {any} */
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: handled below */
    }
    if (res.ok) return parsed;
    if (res.status === 401 && !retried && (await renewToken())) return request(method, path, body, headers, true);
    const code = typeof parsed?.code === 'string' ? parsed.code : 'OTHER';
    const message = Array.isArray(parsed?.message) ? parsed.message.join('; ') : String(parsed?.message ?? res.statusText);
    throw new ApiError(res.status, code, message, parsed?.requestId);
  }
  return {
    /** @param {string} path */
    get: (path) => request('GET', path),
    /** @param {string} path @param {unknown} [body] @param {Record<string, string>} [headers] */
    post: (path, body, headers) => request('POST', path, body ?? {}, headers),
  };
}

/** An Idempotency-Key: getRandomValues works on plain http too, where crypto.randomUUID does not exist. */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `checkout-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
