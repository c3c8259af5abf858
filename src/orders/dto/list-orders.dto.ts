import { PageQuery } from '../../common/http/page-query';
import { ORDER_NO_PATTERN } from '../order-status';

/** A page of orders, by order_no. */
export const OrderPage = PageQuery({
  pattern: ORDER_NO_PATTERN,
  name: 'an order_no',
  description: 'the order_no of the last order of the previous page',
});

/** The member's orders, newest first: `limit` and `starting_after` (an order_no). */
export class ListOrdersDto extends OrderPage {}
