import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The order's lifecycle, enforced by the database whatever the path: a change of status that the
 * lifecycle does not allow (src/orders/order-lifecycle.ts declares it; a test holds the two
 * together) is refused with check_violation. A migration is frozen history, so the pairs are
 * written out here rather than read from the code.
 */
export class OrderStatusTransitions1764057600602 implements MigrationInterface {
  name = 'OrderStatusTransitions1764057600602';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION orders_status_transition() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
             ('pending', 'paid'), ('pending', 'expired'), ('pending', 'closed'), ('pending', 'failed'),
             ('expired', 'paid'), ('closed', 'paid'), ('failed', 'paid'),
             ('paid', 'partially_refunded'), ('paid', 'refunded'), ('partially_refunded', 'refunded')) THEN
          RAISE EXCEPTION 'order % cannot move from % to %', OLD.order_no, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'orders_status_transition';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(
      `CREATE TRIGGER orders_status_transition BEFORE UPDATE OF status ON orders FOR EACH ROW EXECUTE FUNCTION orders_status_transition()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER orders_status_transition ON orders`);
    await q.query(`DROP FUNCTION orders_status_transition()`);
  }
}
