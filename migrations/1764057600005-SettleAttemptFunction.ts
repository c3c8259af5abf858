import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * settle_payment_attempt: the settling transaction's writes in one round trip.
 *
 * The rules stay in TypeScript (PaymentsService decides, membership-grant.rules.ts computes the
 * new membership from the state it read); this function only applies that decision atomically,
 * taking its locks in a fixed order (order and attempt rows first, then the user's
 * advisory lock that orders their events), and refuses with 'stale' — writing nothing — when the
 * membership is no longer the one the decision was computed from, so the caller reads again and
 * recomputes. One call replaces BEGIN, lock, attempt/order update, two membership statements, the
 * outbox insert and COMMIT: the round trips were where settlement spent its time (`npm run bench -- --trace-sql`).
 *
 * Outcomes: unknown | duplicate | amount_mismatch | stale | double_payment | settled.
 */
export class SettleAttemptFunction1764057600005 implements MigrationInterface {
  name = 'SettleAttemptFunction1764057600005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION "settle_payment_attempt"(
        p_payment_no varchar, p_amount integer, p_trade_state varchar, p_transaction_id varchar,
        p_notify_payload jsonb, p_paid_at timestamptz,
        p_expected_level integer, p_expected_expires_at timestamptz,
        p_new_level integer, p_new_expires_at timestamptz, p_started_at timestamptz,
        p_event_payload jsonb)
      RETURNS TABLE (outcome text, previous_status varchar, granted boolean, event_id bigint, event_created_at timestamptz)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        t record;
        m record;
        v_member boolean;
        v_grant uuid;
        v_event_id bigint;
        v_event_at timestamptz;
      BEGIN
        SELECT o.id AS order_id, o.user_id, o.status AS order_status, o.product_id,
               r.id AS record_id, r.status AS record_status, r.amount AS record_amount
          INTO t
          FROM orders o JOIN payment_records r ON r.order_id = o.id
         WHERE r.payment_no = p_payment_no
           FOR UPDATE OF o, r;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 'unknown'::text, NULL::varchar, false, NULL::bigint, NULL::timestamptz; RETURN;
        END IF;
        IF t.record_status = 'success' THEN
          RETURN QUERY SELECT 'duplicate'::text, t.order_status, false, NULL::bigint, NULL::timestamptz; RETURN;
        END IF;
        IF t.record_amount <> p_amount THEN
          RETURN QUERY SELECT 'amount_mismatch'::text, t.order_status, false, NULL::bigint, NULL::timestamptz; RETURN;
        END IF;

        IF t.order_status <> 'paid' THEN
          -- The same lock appendOrderEvent takes: one user's events commit in id order, and with it
          -- held no other settlement of this user can create or move the membership under us.
          PERFORM pg_advisory_xact_lock(hashtextextended(t.user_id, 0));
          SELECT level, expires_at INTO m FROM user_memberships WHERE user_id = t.user_id FOR UPDATE;
          v_member := FOUND;
          IF (v_member AND (m.level <> p_expected_level
                            OR (p_expected_level > 0 AND date_trunc('milliseconds', m.expires_at) IS DISTINCT FROM p_expected_expires_at)))
             OR (NOT v_member AND p_expected_level <> 0) THEN
            -- Decided on a membership that has changed since: nothing written, the caller re-reads.
            RETURN QUERY SELECT 'stale'::text, t.order_status, false, NULL::bigint, NULL::timestamptz; RETURN;
          END IF;
        END IF;

        UPDATE payment_records SET status = 'success', trade_state = p_trade_state, transaction_id = p_transaction_id,
               notify_payload = p_notify_payload, paid_at = p_paid_at, next_query_at = NULL, updated_at = now()
         WHERE id = t.record_id;
        IF t.order_status = 'paid' THEN
          -- Another attempt of this order paid it already: the payment is recorded, nothing granted.
          RETURN QUERY SELECT 'double_payment'::text, t.order_status, false, NULL::bigint, NULL::timestamptz; RETURN;
        END IF;

        UPDATE orders SET status = 'paid', paid_at = p_paid_at, transaction_id = p_transaction_id,
               payment_no = p_payment_no, updated_at = now()
         WHERE id = t.order_id;
        INSERT INTO membership_grants (order_id, user_id, plan_id, previous_level, previous_expires_at, new_level, new_expires_at)
        VALUES (t.order_id, t.user_id, t.product_id,
                CASE WHEN p_expected_level > 0 THEN p_expected_level END,
                CASE WHEN p_expected_level > 0 THEN p_expected_expires_at END,
                p_new_level, p_new_expires_at)
        ON CONFLICT (order_id) DO NOTHING
        RETURNING id INTO v_grant;
        IF v_grant IS NOT NULL THEN
          IF v_member THEN
            UPDATE user_memberships SET plan_id = t.product_id, level = p_new_level, expires_at = p_new_expires_at,
                   started_at = COALESCE(p_started_at, started_at), updated_at = now()
             WHERE user_id = t.user_id;
          ELSE
            INSERT INTO user_memberships (user_id, plan_id, level, started_at, expires_at)
            VALUES (t.user_id, t.product_id, p_new_level, COALESCE(p_started_at, now()), p_new_expires_at);
          END IF;
        END IF;

        INSERT INTO order_events (order_id, user_id, type, payload)
        VALUES (t.order_id, t.user_id, 'order.paid', p_event_payload)
        RETURNING id, created_at INTO v_event_id, v_event_at;
        RETURN QUERY SELECT 'settled'::text, t.order_status, v_grant IS NOT NULL, v_event_id, v_event_at;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP FUNCTION "settle_payment_attempt"(varchar, integer, varchar, varchar, jsonb, timestamptz, integer, timestamptz, integer, timestamptz, timestamptz, jsonb)`,
    );
  }
}
