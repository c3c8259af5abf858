// The sandbox's HTTP server: plain node:http, three families of routes. WeChat Pay lives under
// /v3/ (docs/wechat-pay.md) and, for contracts, the v2 paths /pay/… and /papay/… (docs/contracts.md), Alipay at /gateway.do (docs/alipay.md), the control endpoints under /sandbox/.
import { createServer, type Server } from 'node:http';
import { handleAlipayGateway } from './alipay/gateway';
import type { SandboxContext } from './context';
import { handleControl } from './control/routes';
import { BodyTooLarge, readBody, sendJson } from './http';
import { downloadAlipayBill } from './bills/alipay-bill';
import { handleWechatApi } from './wechat/api';
import { handleWechatV2, isWechatV2Path } from './wechat/papay';

export function createSandboxServer(ctx: SandboxContext, unref: boolean): Server {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    readBody(req)
      .then(async (raw) => {
        if (url.pathname.startsWith('/v3/')) return handleWechatApi(ctx, req, res, raw);
        if (isWechatV2Path(url.pathname)) return handleWechatV2(ctx, req, res, raw, url.pathname);
        if (url.pathname === '/gateway.do' && (req.method === 'POST' || req.method === 'GET')) {
          return handleAlipayGateway(ctx, req, res, raw);
        }
        if (url.pathname === '/downloadBillFile.resource' && req.method === 'GET') return downloadAlipayBill(ctx, res, url);
        if (url.pathname === '/sandbox' || url.pathname.startsWith('/sandbox/')) {
          return handleControl(ctx, req, res, raw, url);
        }
        sendJson(res, 404, { error: `not emulated: ${req.method} ${url.pathname}` });
      })
      .catch((err: Error) => {
        ctx.log(`[sandbox] ${req.method} ${url.pathname} failed: ${err.stack ?? err.message}`);
        if (!res.headersSent) sendJson(res, err instanceof BodyTooLarge ? 413 : 500, { error: err.message });
      });
  });
  if (unref) {
    // Launched next to memberpay in one process: neither the listener nor its connections may
    // keep that process alive once the app has shut down.
    server.unref();
    server.on('connection', (socket) => socket.unref());
  }
  return server;
}
