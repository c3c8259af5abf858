import { Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify/sync';
import type { AdminCaller } from '../audit/audit-log';
import { AuditLogRepository, type AuditRow } from '../audit/audit-log.repository';
import { addDays, isCalendarDay } from '../common/beijing-day';
import { DomainError, NotFoundError } from '../common/errors/domain-error';
import { feeToYuan, fenToYuan } from '../common/money';
import { ORDER_NO_PATTERN } from '../orders/order-status';
import { NotificationRefusalsRepository } from '../payments/notification-refusals.repository';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { adminContractView } from '../subscriptions/subscriptions.views';
import type { ExportBooksDto, ListAuditLogDto, SearchOrdersDto } from './dto/console-read.dto';
import { Row, ConsoleReadRepository, type OrderSearch } from './console-read.repository';
import { DEFAULT_PAGE_LIMIT } from '../common/http/page-query';
import type {
  AuditEntryView,
  AuditLogList,
  MemberView,
  OrderStory,
  SupportOrderList,
  SupportOrderRow,
  TimelineEntry,
} from './console-read.views';

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
/** A year of bill days at most per export: enough for any audit, bounded for the database. */
const MAX_EXPORT_DAYS = 366;
const MEMBER_LIST_LIMIT = 50;
/** Lines per export: far above a year of a busy merchant's days, bounded for the service's memory. */
const MAX_EXPORT_LINES = 200_000;

export function orderRow(o: Row): SupportOrderRow {
  return {
    order_no: o.order_no,
    user_id: o.user_id,
    status: o.status,
    amount: o.amount,
    refunded_amount: o.refunded_amount,
    description: o.description,
    payment_method: o.payment_method,
    channel: o.channel,
    payment_no: o.payment_no,
    transaction_id: o.transaction_id,
    paid_at: iso(o.paid_at),
    created_at: iso(o.created_at)!,
    ...(o.matched_by !== undefined ? { matched_by: o.matched_by } : {}),
  };
}

function auditView(a: AuditRow): AuditEntryView {
  return {
    id: a.id,
    at: iso(a.createdAt)!,
    actor: a.actor,
    action: a.action,
    target_type: a.targetType,
    target: a.target,
    reason: a.reason,
    client_address: a.clientAddress,
    request_id: a.requestId,
    detail: a.detail,
  };
}

/** The link or code a client was given for an attempt, whatever its channel. */
function payLink(a: Row): string | null {
  const p = (a.pay_params ?? {}) as Record<string, string>;
  return a.qr_code_url ?? p.qr_code_url ?? p.h5_url ?? p.url ?? p.prepayid ?? p.prepay_id ?? null;
}

/**
 * A reconciliation item's fee in yuan as its bill wrote it (reconciliation keeps it in 1/1000 fen
 * with the bill's decimals, never rounded to the fen); '' when the bill gave none. PostgreSQL's
 * bigint arrives as text and is checked to be an exact integer before it is used.
 */
function storedFee(r: Row): string {
  if (r.provider_fee_milli_fen === null || r.provider_fee_milli_fen === undefined) return '';
  const milliFen = Number(r.provider_fee_milli_fen);
  if (!Number.isSafeInteger(milliFen)) throw new RangeError('a stored fee is beyond exact integer range');
  return feeToYuan({ milliFen, decimals: Number(r.provider_fee_decimals) });
}

/** Finance's columns, in order; the header row is in the language asked for. */
const BOOK_COLUMNS = [
  ['bill_date', '账单日期', 'Bill date'],
  ['provider', '支付渠道', 'Provider'],
  ['kind', '类型', 'Kind'],
  ['order_no', '订单号', 'Order no.'],
  ['user_id', '用户', 'User'],
  ['payment_no', '商户支付单号', 'Payment no. (out_trade_no)'],
  ['refund_no', '商户退款单号', 'Refund no.'],
  ['provider_trade_no', '渠道交易号', 'Provider trade no.'],
  ['local_amount', '我方金额(元)', 'Our amount (CNY)'],
  ['provider_amount', '账单金额(元)', 'Bill amount (CNY)'],
  ['fee', '手续费(元)', 'Provider fee (CNY)'],
  ['local_status', '我方状态', 'Our status'],
  ['provider_status', '账单状态', 'Bill status'],
  ['outcome', '对账结果', 'Outcome'],
  ['matched', '是否一致', 'Matched'],
  ['why', '说明', 'Why'],
  ['action', '系统处理', 'Action taken'],
  ['resolved_by', '处理人', 'Resolved by'],
  ['resolved_at', '处理时间', 'Resolved at'],
  ['resolution_note', '处理备注', 'Resolution note'],
] as const;

const OUTCOME_WORDS: Record<string, [string, string]> = {
  matched: ['一致', 'matched'],
  missing_locally: ['我方无记录', 'missing here'],
  missing_at_provider: ['账单无记录', 'missing at the provider'],
  amount_mismatch: ['金额不一致', 'amount differs'],
  status_mismatch: ['状态不一致', 'status differs'],
};
const KIND_WORDS: Record<string, [string, string]> = { payment: ['支付', 'payment'], refund: ['退款', 'refund'] };
const PROVIDER_WORDS: Record<string, [string, string]> = { wechat: ['微信支付', 'WeChat Pay'], alipay: ['支付宝', 'Alipay'] };

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab / carriage return) as a formula:
 * text that people typed (notes, ids from a bill) is prefixed with an apostrophe, which Excel and
 * LibreOffice show as plain text.
 */
function inert(text: string | null | undefined): string {
  if (!text) return '';
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The console's reads: finding orders, an order's story, a member, the audit log and the day's books. */
@Injectable()
export class ConsoleReadService {
  constructor(
    private readonly repo: ConsoleReadRepository,
    private readonly audit: AuditLogRepository,
    private readonly refusals: NotificationRefusalsRepository,
    private readonly subscriptions: SubscriptionsService,
  ) {}

  async search(q: SearchOrdersDto): Promise<SupportOrderList> {
    const page = await this.orders({
      q: q.q || undefined,
      status: q.status,
      provider: q.provider,
      channel: q.channel,
      from: q.from,
      to: q.to,
      limit: q.limit,
      startingAfter: q.starting_after,
    });
    return { data: page.rows.map(orderRow), has_more: page.hasMore };
  }

  /**
   * A page of orders, newest first (support's list and the console's search): the cursor is the
   * order_no of the last order of the previous page, a 404 when it names none.
   */
  async orders(
    f: Omit<OrderSearch, 'from' | 'to' | 'limit' | 'after'> & { from?: string; to?: string; limit?: number; startingAfter?: string },
  ): Promise<{ rows: Row[]; hasMore: boolean }> {
    const limit = f.limit ?? DEFAULT_PAGE_LIMIT;
    let after: OrderSearch['after'];
    if (f.startingAfter) {
      const cursor = await this.repo.order(f.startingAfter);
      if (!cursor) throw new NotFoundError('ORDER_NOT_FOUND', 'starting_after names no order');
      after = { created_at: cursor.created_at, order_no: cursor.order_no };
    }
    const { startingAfter: _cursor, ...filter } = f;
    const rows = await this.repo.search({
      ...filter,
      from: f.from ? new Date(f.from) : undefined,
      to: f.to ? new Date(f.to) : undefined,
      limit,
      after,
    });
    return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
  }

  /** One order with everything recorded about it, for support's order view; undefined when there is none. */
  async orderDetail(
    orderNo: string,
  ): Promise<{ order: Row; attempts: Row[]; grant: Row | undefined; periods: Row[]; events: Row[] } | undefined> {
    const order = ORDER_NO_PATTERN.test(orderNo) ? await this.repo.order(orderNo) : undefined;
    if (!order) return undefined;
    const [attempts, grant, periods, events] = await Promise.all([
      this.repo.attempts(order.id),
      this.repo.grant(order.id),
      this.repo.periodsOfOrder(order.id),
      this.repo.events(order.id),
    ]);
    return { order, attempts, grant, periods, events };
  }

  /** Everything that happened to an order, oldest first, from every table that records a part of it. */
  async story(orderNo: string): Promise<OrderStory> {
    if (!ORDER_NO_PATTERN.test(orderNo)) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    // The refunds first: a refund's success and the order's new status commit together, so an order
    // read after its refunds is never older than they are (read the other way round, a refund could
    // show as final beside a status from before it, and the page would stop following it).
    const refunds = await this.repo.refundsOfOrder(orderNo);
    const detail = await this.orderDetail(orderNo);
    if (!detail) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    const { order, attempts, grant, periods, events } = detail;
    const [items, audit, refused, contract] = await Promise.all([
      this.repo.reconciliationItems(
        attempts.map((a) => a.payment_no),
        refunds.map((r) => r.refund_no),
      ),
      this.audit.forTargets([orderNo]),
      this.refusals.forOrder(order.id),
      // Through the subscriptions module, which owns contracts (never read here by SQL).
      this.subscriptions.contractOfOrder(order.id as string),
    ]);
    const entries: { entry: TimelineEntry; sortAt: number }[] = [];
    /**
     * `after`: a provider stamps its times in whole seconds (paid_at, succeeded_at), so such an
     * entry is placed no earlier than what it follows from; the time shown is the provider's.
     */
    const add = (at: Date | string | null, kind: string, ref: string | null, detail: Record<string, unknown>, after?: Date | string) => {
      if (!at) return;
      const time = new Date(at).getTime();
      entries.push({ entry: { at: iso(at)!, kind, ref, detail }, sortAt: after ? Math.max(time, new Date(after).getTime()) : time });
    };
    add(order.created_at, 'order.created', order.order_no, {
      amount: order.amount,
      plan_code: order.plan_code,
      plan_name: order.plan_name,
      plan_level: order.plan_level,
      plan_days: order.plan_days,
      plan_price: order.plan_price,
      is_upgrade: order.is_upgrade,
      upgrade_from_level: order.upgrade_from_level,
      upgrade_shortfall: order.upgrade_shortfall,
      payment_method: order.payment_method,
      channel: order.channel,
      expire_at: iso(order.expire_at),
      auto_renew: order.auto_renew,
      source: order.source,
      contract: contract
        ? {
            contract_no: contract.contract_no,
            status: contract.status,
            provider_contract_id: contract.provider_contract_id,
            renewal_cycle: contract.renewal_cycle,
          }
        : null,
    });
    for (const a of attempts) {
      add(a.created_at, 'attempt.opened', a.payment_no, {
        payment_method: a.payment_method,
        channel: a.channel,
        amount: a.amount,
        link: payLink(a),
        expires_at: iso(a.qr_code_expire_at),
        query_count: a.query_count,
      });
      if (a.paid_at)
        add(
          a.paid_at,
          'attempt.paid',
          a.payment_no,
          {
            payment_method: a.payment_method,
            amount: a.amount,
            transaction_id: a.transaction_id,
            trade_state: a.trade_state,
            // The verified notification (or query answer) that settled it is kept on the attempt.
            verified: a.verified,
          },
          a.created_at,
        );
      if (a.status === 'closed' || a.status === 'failed')
        add(a.updated_at, 'attempt.closed', a.payment_no, { status: a.status, trade_state: a.trade_state });
    }
    // Notifications refused (forged, stale, wrong amount…) that named this order, counted per minute.
    // Only our own ids and the rejection code were kept: what such a notification said is untrusted.
    for (const r of refused)
      add(r.firstAt, 'notification.refused', r.paymentNo, {
        provider: r.provider,
        reason: r.reason,
        count: r.count,
        last_at: iso(r.lastAt),
      });
    if (grant) {
      add(grant.created_at, 'membership.granted', order.order_no, {
        plan_code: grant.plan_code,
        kind: grant.kind,
        level: grant.level,
        days: grant.duration_ms ? Math.round(Number(grant.duration_ms) / 86_400_000) : null,
        // Days partial refunds took back from it (a refund with membership: withdraw).
        withdrawn_days: grant.withdrawn_ms ? Math.round((Number(grant.withdrawn_ms) / 86_400_000) * 10) / 10 : 0,
        periods: periods.map((p) => ({ level: p.level, plan_code: p.plan_code, starts_at: iso(p.starts_at), ends_at: iso(p.ends_at) })),
      });
      if (grant.revoked_at) add(grant.revoked_at, 'membership.revoked', order.order_no, { plan_code: grant.plan_code });
    }
    // The admin's request first: its entry commits with the refund it asked for, at the same instant.
    for (const a of audit) add(a.createdAt, 'admin.action', a.id, { ...auditView(a) });
    for (const r of refunds) {
      add(r.created_at, 'refund.requested', r.refund_no, {
        amount: r.amount,
        kind: r.kind,
        membership: r.membership,
        reason: r.reason,
        requested_by: r.requested_by,
      });
      if (r.status !== 'processing')
        add(
          r.succeeded_at ?? r.updated_at,
          'refund.finished',
          r.refund_no,
          {
            status: r.status,
            amount: r.amount,
            provider_refund_id: r.provider_refund_id,
            provider_state: r.provider_state,
            failure_reason: r.failure_reason,
          },
          r.created_at,
        );
    }
    for (const e of events) add(e.created_at, 'event.sent', e.id, { type: e.type, published_at: iso(e.published_at), payload: e.payload });
    for (const i of items)
      add(i.compared_at ?? i.created_at, 'reconciliation.item', i.id, {
        provider: i.provider,
        bill_date: i.bill_date,
        kind: i.kind,
        reference: i.reference,
        outcome: i.outcome,
        local_amount: i.local_amount,
        provider_amount: i.provider_amount,
        local_status: i.local_status,
        provider_status: i.provider_status,
        provider_trade_no: i.provider_trade_no,
        provider_fee: storedFee(i) || null,
        action: i.action,
        detail: i.detail,
        resolved_by: i.resolved_by,
        resolution_note: i.resolution_note,
        open: i.outcome !== 'matched' && !i.resolved_at,
      });
    // Stable: entries of one instant keep the order they were added in (created before paid before granted).
    const timeline = entries.sort((x, y) => x.sortAt - y.sortAt).map((e) => e.entry);
    const held = refunds.filter((r) => ['processing', 'success', 'abnormal'].includes(r.status)).reduce((s, r) => s + r.amount, 0);
    const refundable = order.payment_no && ['paid', 'partially_refunded'].includes(order.status) ? Math.max(0, order.amount - held) : 0;
    return {
      order: {
        ...orderRow(order),
        plan_code: order.plan_code,
        plan_name: order.plan_name,
        is_upgrade: order.is_upgrade,
        upgrade_shortfall: order.upgrade_shortfall,
        expire_at: iso(order.expire_at),
        updated_at: iso(order.updated_at),
      },
      refundable,
      timeline,
      periods: periods.map((p) => ({ level: p.level, plan_code: p.plan_code, starts_at: iso(p.starts_at), ends_at: iso(p.ends_at) })),
      refunds: refunds.map((r) => ({
        ...r,
        created_at: iso(r.created_at),
        updated_at: iso(r.updated_at),
        succeeded_at: iso(r.succeeded_at),
      })),
    };
  }

  async member(userId: string, now = new Date()): Promise<MemberView> {
    // The contract through the subscriptions module, which owns it (never read here by SQL).
    const [periods, orders, refunds, contract] = await Promise.all([
      this.repo.memberPeriods(userId),
      this.repo.memberOrders(userId, MEMBER_LIST_LIMIT),
      this.repo.memberRefunds(userId, MEMBER_LIST_LIMIT),
      this.subscriptions.latestOfMember(userId),
    ]);
    if (!periods.length && !orders.length && !contract)
      throw new NotFoundError('NOT_FOUND', 'No member with this user id has orders, periods or a contract');
    const plan = contract ? await this.repo.plan(contract.plan_id) : undefined;
    const current = periods.find((p) => new Date(p.starts_at) <= now && now < new Date(p.ends_at));
    const last = periods.length ? periods[periods.length - 1].ends_at : null;
    return {
      user_id: userId,
      level: current?.level ?? 0,
      expires_at: last && new Date(last) > now ? iso(last) : null,
      periods: periods.map((p) => ({
        level: p.level,
        plan_code: p.plan_code,
        order_no: p.order_no,
        starts_at: iso(p.starts_at),
        ends_at: iso(p.ends_at),
        state: new Date(p.ends_at) <= now ? 'past' : new Date(p.starts_at) > now ? 'future' : 'current',
      })),
      orders: orders.map(orderRow),
      refunds: refunds.map((r) => ({ ...r, created_at: iso(r.created_at), succeeded_at: iso(r.succeeded_at) })),
      auto_renewal: contract
        ? {
            ...adminContractView(contract),
            plan_code: plan?.code ?? null,
            plan_name: plan?.name ?? null,
            plan_name_zh: plan?.name_zh ?? null,
          }
        : null,
    };
  }

  async auditLog(q: ListAuditLogDto): Promise<AuditLogList> {
    const limit = q.limit ?? 50;
    const rows = await this.audit.list({ actor: q.actor, action: q.action, target: q.target, before: q.before, limit });
    return { data: rows.slice(0, limit).map(auditView), has_more: rows.length > limit };
  }

  /**
   * The reconciled days from..to as CSV for finance: UTF-8 with a byte order mark (Excel reads a
   * file without one in the machine's ANSI code page and garbles Chinese), amounts in yuan written
   * from integer fen. The export is recorded in the audit log.
   */
  async exportBooks(q: ExportBooksDto, caller: AdminCaller): Promise<{ filename: string; csv: string; rows: number }> {
    const from = q.from;
    const to = q.to ?? q.from;
    const bad = [!isCalendarDay(from) && 'from must be a calendar day', !isCalendarDay(to) && 'to must be a calendar day'].filter(
      Boolean,
    ) as string[];
    if (bad.length) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', bad);
    if (from > to) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['from must not be after to']);
    if (addDays(from, MAX_EXPORT_DAYS) <= to)
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', [`from and to may be at most ${MAX_EXPORT_DAYS} days apart`]);
    const lang = q.lang === 'en' ? 2 : 1;
    const word = (table: Record<string, [string, string]>, key: string | null) => (key ? (table[key]?.[lang - 1] ?? key) : '');
    const yuan = (fen: number | null) => (fen === null || fen === undefined ? '' : fenToYuan(fen));
    const rows = await this.repo.books(from, to, q.provider, MAX_EXPORT_LINES + 1);
    // Never a silently cut file: finance would read a partial export as the whole.
    if (rows.length > MAX_EXPORT_LINES)
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', [
        `more than ${MAX_EXPORT_LINES} lines: export a shorter range of days or one provider at a time`,
      ]);
    const records = rows.map((r) => ({
      bill_date: r.bill_date,
      provider: word(PROVIDER_WORDS, r.provider),
      kind: word(KIND_WORDS, r.kind),
      order_no: r.order_no ?? '',
      user_id: inert(r.user_id),
      payment_no: r.payment_no,
      refund_no: r.refund_no ?? '',
      provider_trade_no: inert(r.provider_trade_no),
      local_amount: yuan(r.local_amount),
      provider_amount: yuan(r.provider_amount),
      // Exact, with the bill's own decimals (five for WeChat Pay): empty when the bill gave none, never a guessed 0.
      fee: storedFee(r),
      local_status: r.local_status ?? '',
      provider_status: inert(r.provider_status),
      outcome: r.outcome,
      matched: r.outcome === 'matched' ? (lang === 1 ? '是' : 'yes') : lang === 1 ? '否' : 'no',
      why: r.outcome === 'matched' ? inert(r.detail) : [word(OUTCOME_WORDS, r.outcome), inert(r.detail)].filter(Boolean).join('; '),
      action: r.action ?? '',
      resolved_by: inert(r.resolved_by),
      resolved_at: iso(r.resolved_at) ?? '',
      resolution_note: inert(r.resolution_note),
    }));
    const csv = stringify(records, {
      bom: true,
      header: true,
      record_delimiter: '\r\n',
      columns: BOOK_COLUMNS.map((c) => ({ key: c[0], header: c[lang] })),
    });
    const range = from === to ? from : `${from}_${to}`;
    await this.audit.record({
      ...caller,
      action: 'reconciliation.exported',
      targetType: from === to ? 'reconciliation_day' : 'reconciliation_range',
      target: `${q.provider ?? 'all'} ${range}`,
      detail: { from, to, provider: q.provider ?? null, rows: records.length },
    });
    return { filename: `memberpay-books-${q.provider ?? 'all'}-${range}.csv`, csv, rows: records.length };
  }
}
