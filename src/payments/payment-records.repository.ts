import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** trade_state of a pending attempt kept for its last query, the provider not knowing its trade yet. */
export const AWAITING_LAST_QUERY = 'TRADE_NOT_EXIST';

/** payment_records reads and writes of the close path (the table belongs to payments). */
@Injectable()
export class PaymentRecordsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** When the attempt's QR code stops being payable, or null for an unknown attempt. */
  async qrExpiry(paymentNo: string): Promise<Date | null> {
    const [row] = await this.dataSource.query(`SELECT qr_code_expire_at FROM payment_records WHERE payment_no = $1`, [paymentNo]) as { qr_code_expire_at: Date | null }[];
    return row?.qr_code_expire_at ?? null;
  }

  /**
   * Keeps a pending attempt whose trade the provider does not know yet, due again at `at` for its
   * last query; the expiry jobs claim it then (their claims wait for next_query_at).
   */
  async deferLastQuery(paymentNo: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_records SET next_query_at = $2, trade_state = $3, updated_at = now() WHERE payment_no = $1 AND status = 'pending'`,
      [paymentNo, at, AWAITING_LAST_QUERY],
    );
  }
}
