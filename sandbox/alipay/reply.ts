// Writes Alipay gateway answers: `{"<method>_response":{…},"sign":"…"}` where `sign` is RSA2 over
// the exact JSON text of the node (docs/alipay.md#answer-signatures). The node is emitted with `/` escaped
// as `\/`, as Alipay does, so a client that re-serialises before verifying fails here too.
import type { ServerResponse } from 'node:http';
import type { FaultMode } from '../faults';
import { send } from '../http';
import type { SandboxKeys } from '../keys';
import { corruptSignature, signBase64 } from '../rsa';

export type AlipayNode = Record<string, string>;

/** Tells an answer node from a domain object in `X | AlipayNode` results. */
export function isNode(value: object): value is AlipayNode {
  return 'code' in value && 'msg' in value;
}

export const success = (fields: Record<string, string>): AlipayNode => ({ code: '10000', msg: 'Success', ...fields });

const MSG: Record<string, string> = {
  '20000': 'Service Currently Unavailable',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
};

export function failure(code: '20000' | '40001' | '40002' | '40004', subCode: string, subMsg: string): AlipayNode {
  return { code, msg: MSG[code], sub_code: subCode, sub_msg: subMsg };
}

/** `alipay.trade.query` -> `alipay_trade_query_response`; gateway-level errors use `error_response`. */
export function responseKey(method: string | undefined): string {
  return method ? `${method.replace(/\./g, '_')}_response` : 'error_response';
}

export function replyAlipay(
  res: ServerResponse,
  keys: SandboxKeys['alipay'],
  key: string,
  node: AlipayNode,
  fault?: FaultMode,
  status = 200,
): void {
  const headers = { 'Content-Type': 'application/json;charset=utf-8' };
  if (fault === 'garbage') {
    send(res, 200, '<html><body>502 Bad Gateway (sandbox garbage fault)</body></html>', headers);
    return;
  }
  const nodeText = JSON.stringify(node).replace(/\//g, '\\/');
  let sign = signBase64(keys.alipaySigner, nodeText);
  if (fault === 'bad-signature') sign = corruptSignature(sign);
  const text = fault === 'unsigned' ? `{"${key}":${nodeText}}` : `{"${key}":${nodeText},"sign":"${sign}"}`;
  send(res, status, text, headers);
}
