/**
 * "Still pending", for a statement that finds its rows by a key (an id, a payment_no, an order's
 * id): written so that PostgreSQL can only check it on the rows the key found, never use it to find
 * rows. orders and payment_records keep an index led by status for their jobs ((status,
 * expire_at), (status, next_query_at)); statistics taken while few rows were pending make a scan of
 * that index look cheaper than the key's, and the planner then walked every pending row to find
 * one (an order's QR code update read 413 buffers with a few thousand orders pending, instead of
 * the 4 of its key). `IS TRUE` over the comparison is not something an index can answer.
 */
export const STILL_PENDING = `(status = 'pending') IS TRUE`;

/** `status` among the statuses in the array parameter `param` (`$3`), checked as STILL_PENDING is and for the same reason. */
export const statusAmong = (param: string): string => `(status = ANY(${param})) IS TRUE`;
