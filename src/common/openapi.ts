import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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

/** OpenAPI at /api/docs (JSON at /api/docs-json), generated from the controllers and DTOs. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('memberpay')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  // Built on the first request for it, not at start: scanning every route and DTO costs the start a
  // tenth of a second or more, and most processes are never asked for the document.
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, config, { extraModels: [ErrorBody] }), {
    jsonDocumentUrl: 'api/docs-json',
  });
}
