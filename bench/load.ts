// The load generator, in a process of its own so that it never shares an event loop with the
// service or the sandbox: `node -r ts-node/register/transpile-only bench/load.ts <spec.json> <out.json>`.
// It drives autocannon through its API (a request generator per scenario) and writes a
// LoadSummary, plus the orders it created, to <out.json>.
import autocannon from 'autocannon';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CpuMeter } from './cpu';
import { nowUs } from './profile';
import { latencySummary, LoadSummary, round } from './stats';
import { signToken } from './tokens';
import { accepted, CreatedOrder, LoadSpec, Measurement, Method, PreparedNotification } from './wire';

const MAX_ERROR_SAMPLES = 5;

interface Tally {
  ok: number;
  bad: number;
  statusCodes: Record<string, number>;
  errorSamples: string[];
}

function tally(t: Tally, ok: boolean, status: number, body: string): void {
  t.statusCodes[status] = (t.statusCodes[status] ?? 0) + 1;
  if (ok) {
    t.ok += 1;
    return;
  }
  t.bad += 1;
  if (t.errorSamples.length < MAX_ERROR_SAMPLES) t.errorSamples.push(`${status} ${body.slice(0, 200)}`);
}

function createOrderRequests(
  spec: Extract<LoadSpec, { kind: 'create-order' }>,
  t: Tally,
  created: CreatedOrder[],
): autocannon.AutocannonRequest[] {
  const bodies = spec.methods.map((m) =>
    JSON.stringify({ product_type: 'membership', product_id: spec.productId, payment_method: m, is_upgrade: false }),
  );
  let n = 0;
  return [
    {
      method: 'POST',
      path: '/api/v1/payment/create-order',
      setupRequest: (req) => {
        const i = n++;
        return {
          ...req,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${signToken(`${spec.userPrefix}-${i}`)}` },
          body: bodies[i % bodies.length],
        };
      },
      onResponse: (status, body) => {
        tally(t, status === 201, status, body);
        if (status !== 201) return;
        const order = JSON.parse(body) as { order_no: string; qr_code_url: string; payment_method: Method };
        created.push({ orderNo: order.order_no, qr: order.qr_code_url, method: order.payment_method });
      },
    },
  ];
}

/** Each request posts the next prepared notification; with `amount` ≤ the file's length, each is sent once. */
function notificationRequests(spec: Extract<LoadSpec, { kind: 'notifications' }>, t: Tally): autocannon.AutocannonRequest[] {
  const list = JSON.parse(readFileSync(spec.file, 'utf8')) as PreparedNotification[];
  // autocannon builds request i and reads its answer in the same connection, in order: the
  // method of each request in flight is kept per connection context.
  let n = 0;
  return [
    {
      method: 'POST',
      setupRequest: (req, context) => {
        const note = list[n++ % list.length];
        context.method = note.method;
        return { ...req, path: note.path, headers: note.headers, body: note.body };
      },
      onResponse: (status, body, context) => tally(t, accepted(context.method as Method, status, body), status, body),
    },
  ];
}

/** GETs of one API path, as each member in turn (their tokens signed before the run). */
function getRequests(spec: Extract<LoadSpec, { kind: 'get' }>, t: Tally): autocannon.AutocannonRequest[] {
  const headers = spec.userIds.map((u) => ({ authorization: `Bearer ${signToken(u)}` }));
  let n = 0;
  return [
    {
      method: 'GET',
      path: spec.path,
      setupRequest: (req) => ({ ...req, headers: headers[n++ % headers.length] }),
      onResponse: (status, body) => tally(t, status === 200, status, body),
    },
  ];
}

async function main(): Promise<void> {
  const [specPath, outPath] = process.argv.slice(2);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as LoadSpec;
  const t: Tally = { ok: 0, bad: 0, statusCodes: {}, errorSamples: [] };
  const created: CreatedOrder[] = [];
  const requests =
    spec.kind === 'create-order'
      ? createOrderRequests(spec, t, created)
      : spec.kind === 'get'
        ? getRequests(spec, t)
        : notificationRequests(spec, t);
  const latencies: number[] = [];
  let started = 0;
  let lastResponse = 0;
  let transportErrors = 0;
  const meter = new CpuMeter(spec.meter);
  const before = await meter.snapshot();
  const cpuBefore = process.cpuUsage();
  const startUs = nowUs();
  const result = await new Promise<autocannon.AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        pipelining: 1,
        timeout: 10,
        ...(spec.kind === 'create-order' && spec.durationSeconds ? { duration: spec.durationSeconds } : { amount: spec.amount }),
        requests,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    started = performance.now();
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastResponse = performance.now();
    });
    instance.on('reqError', (e) => {
      transportErrors += 1;
      if (t.errorSamples.length < MAX_ERROR_SAMPLES) t.errorSamples.push(`transport: ${e.message}`);
    });
    process.once('SIGTERM', () => instance.stop());
  });
  const endUs = nowUs();
  const cpuUsed = process.cpuUsage(cpuBefore);
  const cpu = meter.shares(before, await meter.snapshot(), cpuUsed.user + cpuUsed.system);
  const seconds = (lastResponse - started) / 1000;
  const summary: LoadSummary = {
    requests: latencies.length + transportErrors,
    ok: t.ok,
    errors: t.bad + transportErrors,
    seconds: round(seconds, 3),
    rps: round(latencies.length / seconds, 1),
    ...latencySummary(latencies),
    statusCodes: t.statusCodes,
    errorSamples: t.errorSamples,
  };
  const reported = {
    rps: round(result.requests.average, 1),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  const out: Measurement & { autocannon: typeof reported; created: CreatedOrder[] } = {
    summary,
    window: { startUs, endUs },
    cpu,
    autocannon: reported,
    created,
  };
  writeFileSync(outPath, JSON.stringify(out));
}

main().catch((e: Error) => {
  process.stderr.write(`load generator failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
