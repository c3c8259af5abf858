import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorBody } from './errors/error.filter';

const DESCRIPTION = `
The payment backend of the membership app: buy, renew or upgrade a membership plan and pay by
scanning a WeChat Pay or Alipay QR code. Amounts are integers in **fen** (1/100 CNY); times are ISO 8601.

**Auth.** \`Authorization: Bearer <JWT>\`: HS256 tokens from the membership app's user service, the
user id in \`sub\`.

**Errors.** Every error is \`ErrorBody\`: \`{ statusCode, code, message, requestId }\`.

**WebSocket events** (socket.io at the same host, path \`/socket.io\`): connect with
\`auth: { token: "<JWT>", lastEventId: "<id of the last event you saw>" }\` (or \`?token=\`). A bad or
expired token is refused at the handshake, and when the token expires later the server sends
\`session.expired\` (\`{ code: "UNAUTHENTICATED", message }\`) and disconnects. Each connection hears only its own user's events; after a
reconnect with \`lastEventId\` it first receives the events it missed (last 24 hours), in order, once.
- \`order.paid\`: \`{ id, type, order_no, amount, currency, paid_at, membership: { level, expires_at } }\`
- \`order.expired\`: \`{ id, type, order_no, status: "expired", at }\`
- \`order.closed\`: \`{ id, type, order_no, status: "closed", at }\`
- \`order.refunded\`: \`{ id, type, order_no, amount, refunded_total, status: "partially_refunded" | "refunded", membership }\`

**Admin routes** (\`/api/v1/admin/…\`) need a token with \`role: "admin"\`; anyone else gets 403 \`FORBIDDEN\`.
`;

/**
 * Each operation's id, as a generated client names its method (`createOrder`, not
 * `OrdersController_create`): `Controller.method` → id. A route missing here gets
 * `<method><Controller without "Controller">`, still unique (the openapi spec checks every id is).
 */
const OPERATION_IDS: Record<string, string> = {
  'OrdersController.create': 'createOrder',
  'OrdersController.list': 'listOrders',
  'OrdersController.get': 'getOrder',
  'OrdersController.cancel': 'cancelOrder',
  'OrdersController.refresh': 'refreshOrderPayment',
  'OrdersController.refreshQr': 'refreshOrderQrCode',
  'MembershipController.plans': 'listPlans',
  'MembershipController.me': 'getMyMembership',
  'MembershipController.quotes': 'listQuotes',
  'CheckoutController.config': 'getCheckoutConfig',
  'CheckoutController.demoToken': 'createDemoToken',
  'HealthController.check': 'getHealth',
  'HealthController.ready': 'getReadiness',
  'MetricsController.scrape': 'getMetrics',
  'NotificationsController.receive': 'receivePaymentNotification',
  'RefundNotificationsController.receive': 'receiveRefundNotification',
  'ReturnPageController.show': 'showPaymentReturn',
  'RefundsController.create': 'createRefund',
  'RefundsController.listForOrder': 'listOrderRefunds',
  'RefundsController.list': 'listRefunds',
  'AdminOrdersController.list': 'adminListOrders',
  'AdminOrdersController.get': 'adminGetOrder',
  'ReconciliationAdminController.listRuns': 'listReconciliationRuns',
  'ReconciliationAdminController.listItems': 'listReconciliationItems',
  'ReconciliationAdminController.resolve': 'resolveReconciliationItem',
  'SubscriptionsAdminController.cancel': 'adminCancelAutoRenewal',
};

export const operationId = (controllerKey: string, methodKey: string): string =>
  OPERATION_IDS[`${controllerKey}.${methodKey}`] ?? `${methodKey}${controllerKey.replace(/Controller$/, '')}`;

/** The package's version: the document describes this build of the API. */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) return '0.0.0';
  }
}

/** The OpenAPI document of the application (served at /api/docs-json; `npm run openapi` writes it to a file). */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('memberpay')
    .setDescription(DESCRIPTION)
    .setVersion(packageVersion())
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ErrorBody], operationIdFactory: operationId });
}

/** OpenAPI at /api/docs (JSON at /api/docs-json), generated from the controllers and DTOs. */
export function setupOpenApi(app: INestApplication): void {
  // Built on the first request for it, not at start: scanning every route and DTO costs the start a
  // tenth of a second or more, and most processes are never asked for the document.
  SwaggerModule.setup('api/docs', app, () => openApiDocument(app), {
    jsonDocumentUrl: 'api/docs-json',
  });
}
