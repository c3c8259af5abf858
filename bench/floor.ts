// The floor: the settlement's work with nothing else, in one process, as the bench's reference
// (`node -r ts-node/register/transpile-only bench/floor.ts <spec.json>`). node:http, the providers'
// verification and WeChat Pay's decryption with node:crypto (keys parsed once), and the settlement
// in the fewest round trips: a lookup (which alone answers a duplicate), then one statement that
// locks and marks the attempt and the order, grants the days, writes the period and the outbox row,
// committed on its own (no BEGIN/COMMIT round trips). No framework, no logging, no ledger rebuild:
// a new member's period is laid after whatever they hold. It is not the product (it skips every
// rule the product keeps beyond these), only what this machine can do for this work.
import { createDecipheriv, createPublicKey, createVerify, KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'pg';

export interface FloorSpec {
  dbUrl: string;
  /** The sandbox's environment for memberpay (key paths, ids). */
  env: Record<string, string>;
}

const GLANCE = {
  name: 'floor-glance',
  text: 'SELECT status, amount FROM payment_records WHERE payment_no = $1',
};
const SETTLE = {
  name: 'floor-settle',
  text: `WITH att AS (
       SELECT id, order_id FROM payment_records WHERE payment_no = $1 AND status <> 'success' AND amount = $2 FOR UPDATE),
     ord AS (
       SELECT o.id, o.user_id, o.order_no, o.amount, o.product_id, pl.level, pl.duration_days
         FROM orders o JOIN att ON att.order_id = o.id JOIN membership_plans pl ON pl.id = o.product_id
        WHERE o.paid_at IS NULL FOR UPDATE OF o),
     serialised AS (SELECT ord.*, pg_advisory_xact_lock(hashtextextended(ord.user_id, 0)) FROM ord),
     marked AS (
       UPDATE payment_records r SET status = 'success', trade_state = $3, transaction_id = $4, notify_payload = $5::jsonb,
              paid_at = now(), next_query_at = NULL, updated_at = now()
         FROM att WHERE r.id = att.id),
     paid AS (
       UPDATE orders o SET status = 'paid', paid_at = now(), transaction_id = $4, payment_no = $1, updated_at = now()
         FROM ord WHERE o.id = ord.id),
     granted AS (
       INSERT INTO membership_grants (order_id, user_id, plan_id, kind, level, duration_ms, granted_at)
       SELECT id, user_id, product_id, 'add', level, duration_days::bigint * 86400000, now() FROM serialised
       RETURNING id, order_id, user_id, plan_id, level, duration_ms),
     period AS (
       INSERT INTO membership_periods (user_id, grant_id, order_id, plan_id, level, starts_at, ends_at)
       SELECT g.user_id, g.id, g.order_id, g.plan_id, g.level, s.at, s.at + make_interval(secs => g.duration_ms / 1000)
         FROM granted g CROSS JOIN LATERAL (
           SELECT greatest(now(), (SELECT max(ends_at) FROM membership_periods p WHERE p.user_id = g.user_id)) AS at) s
       RETURNING starts_at, ends_at)
     INSERT INTO order_events (order_id, user_id, type, payload)
     SELECT s.id, s.user_id, 'order.paid',
            jsonb_build_object('order_no', s.order_no, 'amount', s.amount, 'currency', 'CNY', 'paid_at', now(),
                               'membership', (SELECT jsonb_agg(jsonb_build_object('starts_at', starts_at, 'ends_at', ends_at)) FROM period))
       FROM serialised s
     RETURNING id`,
};

class Rejected extends Error {}

function keys(env: Record<string, string>) {
  const verifiers: Record<string, KeyObject> = {};
  if (env.WECHAT_PAY_PUBLIC_KEY_PATH && env.WECHAT_PAY_PUBLIC_KEY_ID)
    verifiers[env.WECHAT_PAY_PUBLIC_KEY_ID] = createPublicKey(readFileSync(env.WECHAT_PAY_PUBLIC_KEY_PATH));
  if (env.WECHAT_PAY_PLATFORM_CERT_PATH) {
    const cert = new X509Certificate(readFileSync(env.WECHAT_PAY_PLATFORM_CERT_PATH));
    verifiers[cert.serialNumber.toUpperCase()] = cert.publicKey;
    verifiers[cert.serialNumber] = cert.publicKey;
  }
  return {
    verifiers,
    apiV3Key: Buffer.from(env.WECHAT_PAY_API_V3_KEY ?? ''),
    mchId: env.WECHAT_PAY_MCH_ID,
    alipayKey: createPublicKey(readFileSync(env.ALIPAY_PUBLIC_KEY)),
    alipayAppId: env.ALIPAY_APP_ID,
  };
}

interface Paid {
  paymentNo: string;
  amountFen: number;
  tradeState: string;
  transactionId: string;
  payload: string;
}

function wechat(req: IncomingMessage, body: Buffer, k: ReturnType<typeof keys>): Paid | null {
  const h = (name: string) => req.headers[name] as string | undefined;
  const timestamp = h('wechatpay-timestamp');
  const nonce = h('wechatpay-nonce');
  const signature = h('wechatpay-signature');
  const serial = h('wechatpay-serial');
  if (!timestamp || !nonce || !signature || !serial) throw new Rejected('headers');
  const key = k.verifiers[serial];
  if (!key || Math.abs(Date.now() / 1000 - Number(timestamp)) >= 300) throw new Rejected('serial or timestamp');
  const ok = createVerify('RSA-SHA256').update(`${timestamp}\n${nonce}\n`).update(body).update('\n').verify(key, signature, 'base64');
  if (!ok) throw new Rejected('signature');
  const envelope = JSON.parse(body.toString('utf8')) as { resource: { ciphertext: string; nonce: string; associated_data?: string } };
  const sealed = Buffer.from(envelope.resource.ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', k.apiV3Key, envelope.resource.nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  decipher.setAAD(Buffer.from(envelope.resource.associated_data ?? ''));
  const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString('utf8');
  const r = JSON.parse(plain) as {
    mchid: string;
    out_trade_no: string;
    trade_state: string;
    transaction_id: string;
    amount: { total: number };
  };
  if (r.mchid !== k.mchId) throw new Rejected('mchid');
  if (r.trade_state !== 'SUCCESS') return null;
  return {
    paymentNo: r.out_trade_no,
    amountFen: r.amount.total,
    tradeState: r.trade_state,
    transactionId: r.transaction_id,
    payload: plain,
  };
}

function alipay(body: Buffer, k: ReturnType<typeof keys>): Paid | null {
  const fields: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    if (key in fields) throw new Rejected('field twice');
    fields[key] = value;
  }
  const content = Object.keys(fields)
    .filter((f) => f !== 'sign' && f !== 'sign_type' && fields[f] !== '')
    .sort()
    .map((f) => `${f}=${fields[f]}`)
    .join('&');
  if (!fields.sign || !createVerify('RSA-SHA256').update(content).verify(k.alipayKey, fields.sign, 'base64'))
    throw new Rejected('signature');
  if (fields.app_id !== k.alipayAppId) throw new Rejected('app_id');
  if (fields.trade_status !== 'TRADE_SUCCESS' && fields.trade_status !== 'TRADE_FINISHED') return null;
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(fields.total_amount ?? '');
  if (!m) throw new Rejected('amount');
  const amountFen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return {
    paymentNo: fields.out_trade_no,
    amountFen,
    tradeState: fields.trade_status,
    transactionId: fields.trade_no,
    payload: JSON.stringify(fields),
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as FloorSpec;
  const k = keys(spec.env);
  const pool = new Pool({ connectionString: spec.dbUrl, max: 10, application_name: 'memberpay-floor' });
  const settle = async (p: Paid): Promise<boolean> => {
    const { rows } = await pool.query<{ status: string; amount: number }>({ ...GLANCE, values: [p.paymentNo] });
    if (!rows.length || rows[0].amount !== p.amountFen) return false;
    if (rows[0].status === 'success') return true;
    await pool.query({ ...SETTLE, values: [p.paymentNo, p.amountFen, p.tradeState, p.transactionId, p.payload] });
    return true;
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isWechat = req.url === '/api/v1/payment/wechat/callback';
      const answer = (ok: boolean) => {
        if (isWechat) {
          res.writeHead(ok ? 204 : 400).end();
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' }).end(ok ? 'success' : 'failure');
        }
      };
      let paid: Paid | null;
      try {
        paid = isWechat ? wechat(req, body, k) : alipay(body, k);
      } catch {
        answer(false);
        return;
      }
      if (!paid) {
        answer(true);
        return;
      }
      settle(paid).then(answer, () => answer(false));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const stop = () => void pool.end().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  process.send!({ url: `http://127.0.0.1:${port}` });
}

main().catch((e: Error) => {
  process.stderr.write(`floor failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
