// Setting up the scenarios through the public routes: orders through memberpay's API, payments
// through the sandbox's control API. Not measured; used by the orchestrator and the event client.
import { type Agent, request } from 'node:http';
import { signToken } from './tokens';
import { CreatedOrder, Method, PreparedNotification } from './wire';

/** Runs `fn` over `items`, at most `concurrency` at a time, keeping the order of the results. */
export async function inPool<T, R>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, json };
}

/** One new order for `userId`, its QR code opened at the provider. */
export async function createOrder(appUrl: string, userId: string, method: Method, productId = 1): Promise<CreatedOrder> {
  const { status, json } = await postJson(
    `${appUrl}/api/v1/payment/create-order`,
    { product_type: 'membership', product_id: productId, payment_method: method, is_upgrade: false },
    { authorization: `Bearer ${signToken(userId)}` },
  );
  if (status !== 201) throw new Error(`create-order for ${userId} answered ${status}: ${JSON.stringify(json).slice(0, 300)}`);
  return { orderNo: json.order_no as string, qr: json.qr_code_url as string, method };
}

/**
 * The buyer pays at the sandbox, which answers with the signed notification instead of sending
 * it (`delivery: 'none'`). WeChat Pay notifications carry a timestamp that memberpay accepts for
 * 5 minutes, so prepare them just before they are fired.
 */
export async function prepareNotification(sandboxUrl: string, order: CreatedOrder): Promise<PreparedNotification> {
  const { status, json } = await postJson(`${sandboxUrl}/sandbox/pay`, { qr: order.qr, delivery: 'none' });
  const note = json.notification as { url: string; headers: Record<string, string>; body: string } | undefined;
  if (status !== 200 || !note)
    throw new Error(`sandbox pay for ${order.orderNo} answered ${status}: ${JSON.stringify(json).slice(0, 300)}`);
  const headers = Object.fromEntries(Object.entries(note.headers).filter(([k]) => k.toLowerCase() !== 'content-length'));
  const url = new URL(note.url);
  return { orderNo: order.orderNo, method: order.method, path: `${url.pathname}${url.search}`, headers, body: note.body };
}

/** Posts a prepared notification to the service as the provider would, on a keep-alive agent: its status and body. */
export function postNotification(agent: Agent, base: URL, note: PreparedNotification): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path: note.path,
        headers: { ...note.headers, 'content-length': Buffer.byteLength(note.body) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(note.body);
  });
}
