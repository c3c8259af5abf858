// Delivers payment notifications the way the providers do: POST, judge the answer, and on failure
// resend on the provider's schedule (docs/wechat-pay.md#acknowledgement, docs/alipay.md#acknowledgement), scaled by
// `timeScale` so tests can run a day-long schedule in seconds. close() cancels everything.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Outgoing {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A notification ready to send: `build(n)` makes send number n (0 = the first). */
export interface PreparedNotification {
  notificationId: string;
  url: string;
  build(sendNo: number): Outgoing;
}

export interface Attempt {
  at: string;
  status?: number;
  body?: string;
  error?: string;
  accepted: boolean;
}

export interface DeliveryRecord {
  notificationId: string;
  url: string;
  attempts: Attempt[];
  delivered: boolean;
  retrying: boolean;
  nextAttemptAt?: string;
}

/** A notification's delivery as the control API shows it, before its first send. */
export function newDeliveryRecord(prepared: { notificationId: string; url: string }): DeliveryRecord {
  return { notificationId: prepared.notificationId, url: prepared.url, attempts: [], delivered: false, retrying: false };
}

export interface DeliveryJob {
  record: DeliveryRecord;
  /** Builds send number `n` (0 = the first); WeChat re-signs each send with a fresh timestamp. */
  build(n: number): Outgoing;
  /** Did the receiver acknowledge? (WeChat: status 200/204; Alipay: body `success`.) */
  accepts(status: number, body: string): boolean;
  /** Waits between a failed send and the next one, in real-world milliseconds. */
  retryIntervalsMs: readonly number[];
  copies: number;
  concurrent: boolean;
}

export interface NotifierOptions {
  timeScale: number;
  timeoutMs: number;
  log: (line: string) => void;
  unref: boolean;
}

const MAX_ANSWER_CHARS = 4096;

export class Notifier {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly opts: NotifierOptions) {}

  /** Runs the first round of sends and returns its attempts; retries go on in the background. */
  async deliver(job: DeliveryJob): Promise<Attempt[]> {
    let sendNo = 0;
    const sendOne = () => this.send(job, sendNo++);
    const round: Attempt[] = [];
    if (job.concurrent) {
      round.push(...(await Promise.all(Array.from({ length: job.copies }, sendOne))));
    } else {
      for (let i = 0; i < job.copies; i += 1) round.push(await sendOne());
    }
    if (round.some((a) => a.accepted)) {
      job.record.delivered = true;
      return round;
    }
    this.scheduleRetry(job, 0, () => sendNo++);
    return round;
  }

  /** A delay that close() cuts short, so no timer outlives the sandbox. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.waiters.delete(resolve);
        resolve();
      }, ms);
      if (this.opts.unref) timer.unref();
      this.timers.add(timer);
      this.waiters.add(resolve);
    });
  }

  close(): void {
    this.closed = true;
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
  }

  private scheduleRetry(job: DeliveryJob, index: number, nextSendNo: () => number): void {
    const { record } = job;
    if (this.closed || index >= job.retryIntervalsMs.length) {
      record.retrying = false;
      delete record.nextAttemptAt;
      if (!this.closed) this.opts.log(`[notify] ${record.notificationId}: gave up after ${record.attempts.length} sends`);
      return;
    }
    const delay = job.retryIntervalsMs[index] * this.opts.timeScale;
    record.retrying = true;
    record.nextAttemptAt = new Date(Date.now() + delay).toISOString();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.send(job, nextSendNo()).then((attempt) => {
        if (attempt.accepted) {
          record.delivered = true;
          record.retrying = false;
          delete record.nextAttemptAt;
        } else {
          this.scheduleRetry(job, index + 1, nextSendNo);
        }
      });
    }, delay);
    if (this.opts.unref) timer.unref();
    this.timers.add(timer);
  }

  private async send(job: DeliveryJob, sendNo: number): Promise<Attempt> {
    const out = job.build(sendNo);
    const at = new Date().toISOString();
    let attempt: Attempt;
    try {
      if (this.closed) throw new Error('sandbox closed');
      const answer = await this.post(out);
      attempt = { at, status: answer.status, body: answer.body, accepted: job.accepts(answer.status, answer.body) };
    } catch (err) {
      attempt = { at, error: (err as Error).message, accepted: false };
    }
    job.record.attempts.push(attempt);
    this.opts.log(
      `[notify] ${job.record.notificationId} send ${sendNo + 1} -> ${attempt.status ?? attempt.error}` +
        `${attempt.accepted ? ' (acknowledged)' : ''}`,
    );
    return attempt;
  }

  /** One POST with a hard deadline; a slow receiver counts as a failure, as at the providers. */
  private post(out: Outgoing): Promise<{ status: number; body: string }> {
    const url = new URL(out.url);
    const controller = new AbortController();
    this.inFlight.add(controller);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = Buffer.from(out.body, 'utf8');
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const timer = setTimeout(() => controller.abort(), this.opts.timeoutMs);
      const req = send(
        url,
        {
          method: 'POST',
          agent: false,
          signal: controller.signal,
          headers: { ...out.headers, 'Content-Length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_CHARS) });
          });
          res.on('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        },
      );
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(controller.signal.aborted && !this.closed ? new Error(`no answer within ${this.opts.timeoutMs} ms`) : err);
      });
      req.end(body);
    }).finally(() => this.inFlight.delete(controller));
  }
}
