import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { WebhookUrlPolicy } from './webhook-url-policy';

/** What an attempt keeps of the answer's body. */
export const RESPONSE_KEPT_BYTES = 1024;

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  responseBody: string | null;
  error: string | null;
}

export interface Outgoing {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * Posts one webhook. Node's own http(s) client rather than axios or fetch: it takes a `lookup` per
 * request (the URL policy checks the address actually connected to), never follows a redirect (a 3xx
 * is a failed attempt: a redirect could lead anywhere), and lets one deadline cover connect, answer
 * and the body's first kilobyte. Connections are kept alive per receiver.
 */
export class WebhookSender {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly policy: WebhookUrlPolicy,
    private readonly timeoutMs: number,
  ) {}

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  send(out: Outgoing): Promise<SendResult> {
    const started = performance.now();
    const done = (r: Omit<SendResult, 'latencyMs' | 'ok'>): SendResult => ({
      ...r,
      ok: r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300 && !r.error,
      latencyMs: Math.round(performance.now() - started),
    });
    let url: URL;
    try {
      url = new URL(out.url);
      this.policy.checkAtSend(url);
    } catch (e) {
      return Promise.resolve(done({ statusCode: null, responseBody: null, error: `refused: ${(e as Error).message}` }));
    }
    const https = url.protocol === 'https:';
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      let statusCode: number | null = null;
      const chunks: Buffer[] = [];
      let kept = 0;
      const finish = (error: string | null, ended = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // An answer read to its end leaves the connection to the agent, for the next delivery.
        if (!ended) req.destroy();
        const responseBody = chunks.length ? Buffer.concat(chunks).subarray(0, RESPONSE_KEPT_BYTES).toString('utf8') : null;
        resolve(done({ statusCode, responseBody, error }));
      };
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method: 'POST',
          agent: https ? this.httpsAgent : this.httpAgent,
          lookup: this.policy.lookup as never,
          headers: { ...out.headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(out.body)) },
        },
        (res: IncomingMessage) => {
          statusCode = res.statusCode ?? null;
          res.on('data', (chunk: Buffer) => {
            if (kept < RESPONSE_KEPT_BYTES) {
              chunks.push(chunk);
              kept += chunk.length;
            }
            if (kept >= RESPONSE_KEPT_BYTES) finish(null);
          });
          res.on('end', () => finish(null, true));
          res.on('error', (e) => finish(statusCode !== null ? null : e.message));
        },
      );
      // The answer's status counts once it has arrived: a body still trickling in at the deadline
      // does not undo a 2xx.
      const timer = setTimeout(() => finish(statusCode !== null ? null : `no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) =>
        finish(statusCode !== null ? null : e.code === 'EWEBHOOKURL' ? `refused: ${e.message}` : e.message),
      );
      req.end(out.body);
    });
  }
}
