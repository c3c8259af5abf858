/**
 * A connection URL as it may be shown: scheme, host, port and database only. The user and
 * password go, and so does the query string: both node-postgres and ioredis take credentials
 * from it too (`?password=…`).
 */
export function redactUrl(value: string): string {
  // `user:pw@host/db` parses as a URL of scheme "user:" whose path holds the password: only a
  // scheme://authority URL has parts that may be shown.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) return '(set, not a scheme://… URL, masked)';
  try {
    const u = new URL(value);
    const db = u.pathname && u.pathname !== '/' ? u.pathname : '';
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${db}`;
  } catch {
    return '(set, unreadable URL)';
  }
}

/** Every `scheme://…` URL with credentials or a query in a text, redacted (for log lines). */
const URL_WITH_SECRETS = /\b([a-z][a-z0-9+.-]*):\/\/([^\s/?#@]*@)?([^\s/?#"']+)(\/[^\s?#"']*)?(\?[^\s#"']*)?/gi;

export function redactUrlsIn(text: string): string {
  return text.replace(URL_WITH_SECRETS, (match, scheme: string, userinfo?: string, host?: string, path?: string, query?: string) => {
    if (!userinfo && !query) return match;
    if (!/^(postgres(ql)?|rediss?)$/i.test(scheme) && !userinfo) return match; // other URLs keep their query (notify URLs, QR codes)
    return `${scheme}://${host}${path ?? ''}`;
  });
}
