import { DataSource } from 'typeorm';
import { typeormOptions } from '../../src/database/typeorm-options';
import { OrderFulfilmentRepository } from '../../src/orders/order-fulfilment.repository';
import { createTestDatabase, TestDatabase } from '../support/db';

/**
 * Marking an order paid inside a settlement changes exactly the one unpaid row it locked: an order
 * found paid already (or gone) is an error that rolls the settlement back, grant and all, rather
 * than a silent no-op that would commit a grant for an order not marked paid.
 */
describe('order fulfilment: marking an order paid', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let repo: OrderFulfilmentRepository;
  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(typeormOptions(db.url, { poolSize: 2 })).initialize();
    repo = new OrderFulfilmentRepository(ds);
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const insertOrder = async (orderNo: string, status: string, paid: boolean): Promise<string> => {
    const [row] = await ds.query(
      `INSERT INTO orders (order_no, user_id, product_type, product_id, amount, description, status, payment_method, expire_at, paid_at)
       VALUES ($1, 'fulfil-member', 'membership', 1, 1990, 'fulfil', $2, 'wechat', now(), $3) RETURNING id`,
      [orderNo, status, paid ? new Date() : null],
    );
    return row.id;
  };
  const payment = { paymentNo: 'MPFULFIL1', transactionId: '4200000001', paidAt: new Date(), upgradeShortfall: null };

  it('marks a pending (or expired) order paid', async () => {
    for (const [no, status] of [
      ['MOFULFILPENDING', 'pending'],
      ['MOFULFILEXPIRED', 'expired'],
    ]) {
      const id = await insertOrder(no, status, false);
      await ds.transaction((m) => repo.markPaid(m, id, { ...payment, paymentNo: `MP${no}` }));
      const [row] = await ds.query(`SELECT status, payment_no FROM orders WHERE id = $1`, [id]);
      expect(row).toEqual({ status: 'paid', payment_no: `MP${no}` });
    }
  });

  it('refuses an order paid already, and the transaction around it commits nothing', async () => {
    const id = await insertOrder('MOFULFILPAID', 'paid', true);
    const outcome = ds.transaction(async (m) => {
      await m.query(`UPDATE orders SET description = 'changed in the settlement' WHERE id = $1`, [id]);
      await repo.markPaid(m, id, { ...payment, paymentNo: 'MPFULFIL2' });
    });
    await expect(outcome).rejects.toThrow(/could not be marked paid/);
    const [row] = await ds.query(`SELECT description, payment_no FROM orders WHERE id = $1`, [id]);
    expect(row).toEqual({ description: 'fulfil', payment_no: null });
  });
});
