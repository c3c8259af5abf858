// 6. renewals: contracts due, signed the way members sign them (create-order with auto_renew, then the
// sandbox's signing page), and ONE pass of the renewal CLI from the production build as of a time inside
// their deduction window. Measured: the pass's wall time, the time until every cycle is paid (WeChat Pay's
// deductions settle by callback to the service after the CLI's answer), and from the database afterwards
// double charges and missing periods.
import { inPool } from './api';
import { CpuMeter, pidTicks, TICKS_PER_SECOND } from './cpu';
import { checkRenewals, paidEnds, RenewalCheck, renewedContracts, signedContracts } from './database';
import { built, finished, start } from './processes';
import type { Context } from './scenarios';
import { round } from './stats';
import { signToken } from './tokens';
import type { Method } from './wire';
import { DEDUCTION_LEAD_MS, deductionWindowFrom } from '../src/subscriptions/renewal-schedule';

export interface RenewalsResult {
  contracts: number;
  asOf: string;
  signSeconds: number;
  /** The CLI's run, from spawning it to its exit (the Nest context's start included). */
  passSeconds: number;
  /** From spawning the CLI to the last cycle paid. */
  settledSeconds: number;
  deductionsPerSecond: number;
  cliExit: number | null;
  cliOutput: string;
  check: RenewalCheck;
  /** CPU per renewed contract, in ms, from /proc: the CLI, the service (callbacks), PostgreSQL, the sandbox. */
  cpuMsPerContract: { cli: number; service: number; postgres: number; sandbox: number; otherCores: number };
}

const POLL_MS = 100;

async function until(what: string, limitMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`renewal scenario: never ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * WeChat Pay wants each signing's request_serial above the last one it saw; the service derives it from the
 * moment the signing was asked for, so two checkouts in flight at once can reach the provider out of order
 * and the later-arriving one is refused (REQUEST_SERIAL_INVALID). WeChat Pay checkouts are therefore made
 * one after the other; their signing at the sandbox, and everything on Alipay, run side by side.
 */
let wechatCheckouts: Promise<unknown> = Promise.resolve();
function inTurn<T>(fn: () => Promise<T>): Promise<T> {
  const turn = wechatCheckouts.then(fn, fn);
  wechatCheckouts = turn.catch(() => undefined);
  return turn;
}

/** One member buys the monthly plan with auto-renewal and signs (and pays) at the sandbox. */
async function signOne(ctx: Context, userId: string, method: Method): Promise<void> {
  const checkout = () =>
    fetch(`${ctx.appUrl}/api/v1/payment/create-order`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${signToken(userId)}` },
      body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: method, auto_renew: true }),
    });
  const res = await (method === 'wechat' ? inTurn(checkout) : checkout());
  const order = (await res.json()) as { qr_code_url?: string };
  if (res.status !== 201 || !order.qr_code_url)
    throw new Error(`create-order (auto_renew) for ${userId} answered ${res.status}: ${JSON.stringify(order).slice(0, 300)}`);
  const signed = await fetch(`${ctx.sandboxUrl}/sandbox/contracts/sign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ qr: order.qr_code_url }),
  });
  if (signed.status !== 200)
    throw new Error(`sandbox sign for ${userId} answered ${signed.status}: ${(await signed.text()).slice(0, 300)}`);
}

/**
 * A time inside every contract's deduction window: from T − 1 day (WeChat Pay: within 07:00–22:00 Beijing
 * time), before the earliest T. The Ts differ only by the minutes the signing took.
 */
function asOfFor(first: Date, last: Date): Date {
  const opens = new Date(last.getTime() - DEDUCTION_LEAD_MS + 60_000);
  const asOf = new Date(Math.max(deductionWindowFrom('wechat', opens).getTime(), deductionWindowFrom('alipay', opens).getTime()));
  if (asOf.getTime() >= first.getTime())
    throw new Error(`renewal scenario: no common deduction window (T from ${first.toISOString()} to ${last.toISOString()})`);
  return asOf;
}

export async function renewals(
  ctx: Context,
  opts: { contracts: number; concurrency: number; env: Record<string, string> },
): Promise<RenewalsResult> {
  const methods: Method[] = ['wechat', 'alipay'];
  const userIds = Array.from({ length: opts.contracts }, (_, i) => `${ctx.runId}-ren-${i}`);
  const signStarted = Date.now();
  await inPool(userIds, opts.concurrency, (u, i) => signOne(ctx, u, methods[i % 2]));
  // WeChat Pay's payment and contract callbacks, and Alipay's first-period deduction, land after the sign call.
  await until(
    'all contracts active with their first month paid',
    120_000 + 50 * opts.contracts,
    async () => (await signedContracts(ctx.dbUrl, userIds)) === opts.contracts,
  );
  const signSeconds = round((Date.now() - signStarted) / 1000, 1);
  ctx.log(`  ${opts.contracts} contracts signed (half WeChat Pay, half Alipay), first months paid, in ${signSeconds} s`);
  const { first, last } = await paidEnds(ctx.dbUrl, userIds);
  const asOf = asOfFor(new Date(first), new Date(last));

  const meter = new CpuMeter(ctx.meter);
  const before = await meter.snapshot();
  const t0 = process.hrtime.bigint();
  const cli = start(
    'renewals CLI',
    process.execPath,
    [built('main.js').replace(/main\.js$/, 'subscriptions/renewals.cli.js'), '--as-of', asOf.toISOString()],
    {
      cwd: ctx.work,
      env: opts.env,
    },
  );
  // The CLI's own CPU, read until it exits (its /proc entry goes with it).
  let cliTicks = 0;
  const poll = setInterval(() => (cliTicks = Math.max(cliTicks, pidTicks(cli.proc.pid!))), 100);
  let cliExit: number | null;
  try {
    await finished(cli);
    cliExit = 0;
  } catch (e) {
    ctx.log(`  ${(e as Error).message.slice(0, 2000)}`);
    cliExit = await cli.exited;
  } finally {
    clearInterval(poll);
  }
  const passSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await until(
    'every cycle paid',
    120_000 + 20 * opts.contracts,
    async () => (await renewedContracts(ctx.dbUrl, userIds)) === opts.contracts,
  ).catch((e: Error) => ctx.log(`  ${e.message}`));
  const settledSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await meter.snapshot();
  const shares = meter.shares(before, after, 0);
  const check = await checkRenewals(ctx.dbUrl, userIds);
  const perContract = (cores: number) => round((cores * settledSeconds * 1000) / Math.max(1, check.paidCycles), 2);
  return {
    contracts: opts.contracts,
    asOf: asOf.toISOString(),
    signSeconds,
    passSeconds: round(passSeconds, 2),
    settledSeconds: round(settledSeconds, 2),
    deductionsPerSecond: round(check.deductions / settledSeconds, 1),
    cliExit,
    cliOutput: cli.output().trim().split('\n').slice(-3).join('\n'),
    check,
    cpuMsPerContract: {
      cli: round(((cliTicks / TICKS_PER_SECOND) * 1000) / Math.max(1, check.paidCycles), 2),
      service: perContract(shares.service),
      postgres: perContract(shares.postgres),
      sandbox: perContract(shares.sandbox),
      // Everything else on the machine during the pass, in cores (the CLI is in it): other people's work on a shared machine.
      otherCores: round(Math.max(0, shares.other - cliTicks / TICKS_PER_SECOND / settledSeconds), 2),
    },
  };
}

/** The scenario's targets, as PASS/miss lines under the table. */
export function renewalTargets(r: RenewalsResult): { result: 'PASS' | 'miss'; what: string; measured: string; target: string }[] {
  const c = r.check;
  return [
    {
      result: r.cliExit === 0 ? 'PASS' : 'miss',
      what: 'renewals: the CLI pass',
      measured: `exit ${r.cliExit}`,
      target: 'exit 0',
    },
    {
      result: c.paidCycles === c.contracts && c.deductions === c.contracts ? 'PASS' : 'miss',
      what: 'renewals: contracts renewed',
      measured: `${c.paidCycles} cycles paid by ${c.deductions} deductions of ${c.contracts} due`,
      target: 'all',
    },
    { result: c.doubleCharges === 0 ? 'PASS' : 'miss', what: 'renewals: double charges', measured: String(c.doubleCharges), target: '0' },
    {
      result: c.missingPeriods === 0 ? 'PASS' : 'miss',
      what: 'renewals: missing periods (no renewal period starting exactly at T)',
      measured: String(c.missingPeriods),
      target: '0',
    },
  ];
}
