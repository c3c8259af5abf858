import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pinoHttp } from 'pino-http';
import { AppLogger } from './logging.module';

/** An AppLogger whose lines land in an array, parsed. */
function capture(): { logger: AppLogger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const http = pinoHttp({ level: 'trace', genReqId: (req: IncomingMessage) => req.headers['x-request-id'] as string }, sink);
  return { logger: new AppLogger(http), lines };
}

describe('AppLogger (Nest LoggerService on pino)', () => {
  it('writes the message with the context Nest passes last, at the matching level', () => {
    const { logger, lines } = capture();
    logger.log('ready', 'Bootstrap');
    logger.warn('slow', 'Jobs');
    logger.verbose('detail', 'Jobs');
    expect(lines.map((l) => [l.level, l.msg, l.context])).toEqual([
      [30, 'ready', 'Bootstrap'],
      [40, 'slow', 'Jobs'],
      [10, 'detail', 'Jobs'],
    ]);
  });

  it('logs an Error as err, and the stack Nest exception handlers pass as the second argument', () => {
    const { logger, lines } = capture();
    logger.error(new Error('boom'), 'Payments');
    logger.error('handler failed', 'Error: handler failed\n    at somewhere (file.ts:1:1)', 'ExceptionsHandler');
    expect(lines[0]).toMatchObject({ level: 50, context: 'Payments', err: { message: 'boom' } });
    expect(lines[1]).toMatchObject({ level: 50, context: 'ExceptionsHandler', err: { message: 'handler failed' } });
    expect((lines[1].err as { stack: string }).stack).toContain('at somewhere');
  });

  it("gives the lines written while serving a request that request's id, and none outside", async () => {
    const { logger, lines } = capture();
    const server = createServer((req, res) => logger.middleware(req, res, () => (logger.log('inside', 'Test'), res.end('ok'))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await fetch(`http://127.0.0.1:${port}/x`, { headers: { 'x-request-id': 'req-42' } }).then((r) => r.text());
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    logger.log('outside', 'Test');
    const inside = lines.find((l) => l.msg === 'inside');
    const outside = lines.find((l) => l.msg === 'outside');
    expect((inside?.req as { id?: string } | undefined)?.id).toBe('req-42');
    expect(outside && 'req' in outside).toBe(false);
  });
});
