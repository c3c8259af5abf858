// @ts-check
// The REST client: bearer token, the project's error format ({ statusCode, code, message, requestId })
// turned into ApiError. The console has no powers of its own: everything goes through the admin API.

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

/**
 * @param {() => string | null} getToken
 * @param {(error: ApiError) => void} onUnauthenticated called on a 401 (expired or revoked token)
 */
export function createApi(getToken, onUnauthenticated) {
  /**
   * @param {string} method @param {string} path @param {unknown} [body] @param {Record<string, string>} [headers]
   * @returns {Promise<Response>}
   */
  async function send(method, path, body, headers = {}) {
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
    if (res.ok) return res;
    const text = await res.text();
    /** @type {any} */
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: handled below */
    }
    const code = typeof parsed?.code === 'string' ? parsed.code : 'OTHER';
    const message = Array.isArray(parsed?.message) ? parsed.message.join('; ') : String(parsed?.message ?? res.statusText);
    const error = new ApiError(res.status, code, message, parsed?.requestId);
    if (res.status === 401) onUnauthenticated(error);
    throw error;
  }
  /** @param {Response} res @returns {Promise<any>} */
  const json = async (res) => {
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  };
  return {
    /** @param {string} path */
    get: async (path) => json(await send('GET', path)),
    /** @param {string} path @param {unknown} [body] @param {Record<string, string>} [headers] */
    post: async (path, body, headers) => json(await send('POST', path, body ?? {}, headers)),
    /**
     * A file the API answers (the CSV export), with the name it gives in Content-Disposition.
     * @param {string} path @returns {Promise<{ blob: Blob, filename: string }>}
     */
    async download(path) {
      const res = await send('GET', path, undefined, { Accept: 'text/csv' });
      const disposition = res.headers.get('content-disposition') ?? '';
      const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'export.csv';
      return { blob: await res.blob(), filename };
    },
  };
}

/**
 * An Idempotency-Key, one per confirmed refund: a double click or a retry sends the same key, so
 * it is one refund. getRandomValues works on plain http too, where crypto.randomUUID does not exist.
 */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
