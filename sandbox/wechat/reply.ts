// Writes every WeChat Pay API answer, errors and 204 included, signed per docs/wechat-pay.md#notification-signatures,
// and applies the answer-level faults (sandbox/README.md#fault-modes).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultMode } from '../faults';
import { send } from '../http';
import { randomHex } from '../ids';
import type { SandboxKeys } from '../keys';
import { keyModeFor, signatureHeaders, type SignatureFault } from './signature';

const SIGNATURE_FAULTS: Partial<Record<FaultMode, SignatureFault>> = {
  'bad-signature': 'signature',
  probe: 'probe',
  'stale-timestamp': 'stale-timestamp',
  'unknown-serial': 'unknown-serial',
  unsigned: 'unsigned',
};

export interface WechatAnswer {
  status: number;
  body?: unknown;
}

export function replyWechat(
  req: IncomingMessage,
  res: ServerResponse,
  keys: SandboxKeys['wechat'],
  answer: WechatAnswer,
  fault?: FaultMode,
): void {
  let status = answer.status;
  let body = answer.body === undefined ? '' : JSON.stringify(answer.body);
  if (fault === 'garbage') {
    // A proxy error page where JSON was expected, signed correctly so that only parsing fails.
    status = 200;
    body = '<html><body>502 Bad Gateway (sandbox garbage fault)</body></html>';
  }
  const requestSerial = req.headers['wechatpay-serial'];
  const headers = signatureHeaders(keys, body, {
    mode: keyModeFor(typeof requestSerial === 'string' ? requestSerial : undefined, keys),
    fault: fault ? SIGNATURE_FAULTS[fault] : undefined,
  });
  headers['Request-ID'] = `08${randomHex(12).toUpperCase()}`;
  if (body !== '') headers['Content-Type'] = 'application/json; charset=utf-8';
  send(res, status, body, headers);
}

export function errorBody(code: string, message: string, detail?: unknown): Record<string, unknown> {
  return detail === undefined ? { code, message } : { code, message, detail };
}
