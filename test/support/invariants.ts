import type { Client } from 'pg';

/**
 * The invariants no test may break (issue 8). Each query returns the rows that violate one;
 * an empty result everywhere means the books are straight.
 */
/** Orders that were paid: a refund (partial or full) comes after payment. */
const PAID = `('paid', 'partially_refunded', 'refunded')`;
/** Orders whose membership stands: a full refund takes it away. */
const GRANTED = `('paid', 'partially_refunded')`;

const CHECKS: Record<string, string> = {
  'a paid order has exactly one successful payment record (besides double payments refunded by themselves)': `
    SELECT o.order_no FROM orders o WHERE o.status IN ${PAID}
      AND (SELECT count(*) FROM payment_records pr WHERE pr.order_id = o.id AND pr.status = 'success'
             AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.payment_no = pr.payment_no AND f.kind = 'duplicate_payment')) <> 1`,
  'a paid order has exactly one grant': `
    SELECT o.order_no FROM orders o WHERE o.status IN ${GRANTED}
      AND (SELECT count(*) FROM membership_grants g WHERE g.order_id = o.id) <> 1`,
  'no grant without a paid order': `
    SELECT g.order_id FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.status NOT IN ${GRANTED}`,
  'a successful payment belongs to a paid order': `
    SELECT pr.payment_no FROM payment_records pr JOIN orders o ON o.id = pr.order_id WHERE pr.status = 'success' AND o.status NOT IN ${PAID}`,
  'a paid order has exactly one order.paid event': `
    SELECT o.order_no FROM orders o WHERE o.status IN ${PAID}
      AND (SELECT count(*) FROM order_events e WHERE e.order_id = o.id AND e.type = 'order.paid') <> 1`,
  'refunds never exceed what was paid, per attempt and per order': `
    SELECT o.order_no FROM orders o
     WHERE (SELECT COALESCE(sum(f.amount), 0) FROM refunds f WHERE f.order_id = o.id AND f.status IN ('processing', 'success', 'abnormal'))
         > (SELECT COALESCE(sum(pr.amount), 0) FROM payment_records pr WHERE pr.order_id = o.id AND pr.status = 'success')
        OR EXISTS (SELECT 1 FROM payment_records pr WHERE pr.order_id = o.id AND pr.amount <
             (SELECT COALESCE(sum(f.amount), 0) FROM refunds f WHERE f.payment_no = pr.payment_no AND f.status IN ('processing', 'success', 'abnormal')))`,
  'an order\'s refunded amount and status are its successful refunds': `
    SELECT o.order_no FROM orders o
      LEFT JOIN LATERAL (SELECT COALESCE(sum(f.amount), 0) AS total FROM refunds f
                          WHERE f.order_id = o.id AND f.payment_no = o.payment_no AND f.kind = 'support' AND f.status = 'success') r ON true
     WHERE o.refunded_amount <> r.total
        OR (o.status = 'refunded') <> (r.total > 0 AND r.total = o.amount)
        OR (o.status = 'partially_refunded') <> (r.total > 0 AND r.total < o.amount)
        OR (r.total > 0 AND o.status NOT IN ('partially_refunded', 'refunded'))`,
  'a refunded order has one order.refunded event per successful refund of its payment': `
    SELECT o.order_no FROM orders o
     WHERE (SELECT count(*) FROM order_events e WHERE e.order_id = o.id AND e.type = 'order.refunded')
        <> (SELECT count(*) FROM refunds f WHERE f.order_id = o.id AND f.payment_no = o.payment_no AND f.kind = 'support' AND f.status = 'success')`,
  'the membership is where its grants lead': `
    SELECT m.user_id FROM user_memberships m
      LEFT JOIN LATERAL (SELECT g.new_level, g.new_expires_at FROM membership_grants g WHERE g.user_id = m.user_id
                         ORDER BY g.created_at DESC, g.new_expires_at DESC LIMIT 1) last ON true
     WHERE last.new_expires_at IS DISTINCT FROM m.expires_at OR last.new_level IS DISTINCT FROM m.level`,
  'each grant starts where the previous one ended': `
    SELECT user_id FROM (
      SELECT user_id, previous_expires_at,
             lag(new_expires_at) OVER (PARTITION BY user_id ORDER BY created_at, new_expires_at) AS before
        FROM membership_grants) chain
     WHERE before IS NOT NULL AND previous_expires_at IS DISTINCT FROM before`,
  'no pending order without a QR code': `
    SELECT order_no FROM orders WHERE status = 'pending' AND (qr_code_url IS NULL OR payment_no IS NULL)`,
};

export async function invariantViolations(db: Client): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(CHECKS)) {
    const { rows } = await db.query(sql);
    if (rows.length) out[name] = rows;
  }
  return out;
}

export async function expectInvariants(db: Client): Promise<void> {
  expect(await invariantViolations(db)).toEqual({});
}
