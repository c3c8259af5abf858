import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * refunds_within_paid locks the refund's order FOR NO KEY UPDATE instead of FOR UPDATE, as every
 * lock of an order row now is: a rebuild of a member's ledger, holding the member's lock, inserts
 * periods whose foreign key takes FOR KEY SHARE on the member's orders, which FOR UPDATE blocks; a
 * refund's success holding its order and then waiting for the member's lock deadlocked with it.
 * Nothing the trigger guards changes an order's key, so the weaker lock serialises the same refunds.
 */
export class OrderLocksNoKeyUpdate1764057601401 implements MigrationInterface {
  name = 'OrderLocksNoKeyUpdate1764057601401';

  async up(q: QueryRunner): Promise<void> {
    await q.query(withOrderLock('FOR NO KEY UPDATE'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(withOrderLock('FOR UPDATE'));
  }
}

/** The function of 1764057600300-Refunds, with the order's row lock given. */
const withOrderLock = (lock: string) => `
  CREATE OR REPLACE FUNCTION "refunds_within_paid"() RETURNS trigger LANGUAGE plpgsql AS $fn$
  DECLARE
    v_paid integer;
    v_held bigint;
  BEGIN
    IF NEW.status IN ('failed', 'closed') THEN
      RETURN NEW; -- holds no money
    END IF;
    PERFORM 1 FROM orders WHERE id = NEW.order_id ${lock};
    SELECT amount INTO v_paid FROM payment_records
     WHERE payment_no = NEW.payment_no AND order_id = NEW.order_id AND status = 'success';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'refund % is for payment % of order %, which is not paid', NEW.refund_no, NEW.payment_no, NEW.order_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'CHK_refunds_within_paid';
    END IF;
    SELECT COALESCE(sum(amount), 0) INTO v_held FROM refunds
     WHERE payment_no = NEW.payment_no AND id <> NEW.id AND status NOT IN ('failed', 'closed');
    IF v_held + NEW.amount > v_paid THEN
      RAISE EXCEPTION 'refund % of % fen would bring the refunds of payment % to % fen, more than the % fen paid',
        NEW.refund_no, NEW.amount, NEW.payment_no, v_held + NEW.amount, v_paid
        USING ERRCODE = 'check_violation', CONSTRAINT = 'CHK_refunds_within_paid';
    END IF;
    RETURN NEW;
  END
  $fn$`;
