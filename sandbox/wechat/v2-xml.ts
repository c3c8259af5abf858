// WeChat Pay API v2 messages (docs/contracts.md#the-v2-signature): flat `<xml>` documents, one element
// per field, signed with MD5 or HMAC-SHA256 keyed by the merchant's API v2 key. Hand-written with
// node:crypto and two regular expressions rather than an XML library: the messages are one level deep
// by definition, and the emulator must not share parsing or signing code with memberpay's client, so a
// bug there is not repeated here.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type V2SignType = 'MD5' | 'HMAC-SHA256';

const FIELD = /<([A-Za-z_][\w]*)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g;
const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&apos;': "'" };

/** The fields of `<xml>…</xml>`, or null when the text is not such a document. */
export function parseV2Xml(text: string): Record<string, string> | null {
  const root = /^\s*(?:<\?xml[^>]*\?>\s*)?<xml>([\s\S]*)<\/xml>\s*$/.exec(text);
  if (!root) return null;
  const fields: Record<string, string> = {};
  let rest = root[1];
  for (const m of root[1].matchAll(FIELD)) {
    const [whole, name, cdata, plain] = m;
    fields[name] = cdata ?? plain.replace(/&(lt|gt|amp|quot|apos);/g, (e) => ENTITIES[e]);
    rest = rest.replace(whole, '');
  }
  // Anything left over is nesting or junk: not a v2 message.
  return rest.trim() === '' ? fields : null;
}

export function buildV2Xml(fields: Record<string, string>): string {
  const body = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (/^[\w.\-:@]*$/.test(v) ? `<${k}>${v}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`))
    .join('');
  return `<xml>${body}</xml>`;
}

/** docs/contracts.md#the-v2-signature: non-empty fields but `sign`, sorted, `k=v&…&key=KEY`, upper-case hex. */
export function v2Sign(fields: Record<string, string>, apiV2Key: string, type: V2SignType): string {
  const text = `${Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== '' && fields[k] !== undefined)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&')}&key=${apiV2Key}`;
  const hex =
    type === 'MD5'
      ? createHash('md5').update(text, 'utf8').digest('hex')
      : createHmac('sha256', apiV2Key).update(text, 'utf8').digest('hex');
  return hex.toUpperCase();
}

/** The sign type a message declares (MD5 when it names none), or null for an unknown one. */
export function declaredSignType(fields: Record<string, string>): V2SignType | null {
  const t = fields.sign_type ?? 'MD5';
  return t === 'MD5' || t === 'HMAC-SHA256' ? t : null;
}

export function v2Verify(fields: Record<string, string>, apiV2Key: string): boolean {
  const type = declaredSignType(fields);
  if (!type || !fields.sign) return false;
  const expected = Buffer.from(v2Sign(fields, apiV2Key, type));
  const given = Buffer.from(fields.sign);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Adds `sign` (and `sign_type` for HMAC) to a message. */
export function signedV2(fields: Record<string, string>, apiV2Key: string, type: V2SignType): Record<string, string> {
  const out: Record<string, string> = type === 'HMAC-SHA256' ? { ...fields, sign_type: type } : { ...fields };
  out.sign = v2Sign(out, apiV2Key, type);
  return out;
}

/** The answer that acknowledges a v2 callback, and the one that refuses a malformed call. */
export const V2_ACK = buildV2Xml({ return_code: 'SUCCESS', return_msg: 'OK' });
export function v2ReturnFail(message: string): string {
  return buildV2Xml({ return_code: 'FAIL', return_msg: message });
}

/** A receiver acknowledged a v2 callback: HTTP 200 and `return_code` SUCCESS in the XML it answered. */
export function v2Accepts(status: number, body: string): boolean {
  return status === 200 && parseV2Xml(body)?.return_code === 'SUCCESS';
}
