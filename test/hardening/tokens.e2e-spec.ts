import { createHmac } from 'node:crypto';
import { TestApp, TEST_JWT_SECRET } from '../support/app';
import { useApp } from '../support/lifecycle';
import { connectClient } from '../support/ws-client';

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A token exactly as given: claims the issuer chose, HS256 over the secret. */
function token(claims: Record<string, unknown>, secret = TEST_JWT_SECRET): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

/** Each token is refused by the REST API (401) and at the WebSocket handshake (connect_error UNAUTHENTICATED). */
async function expectRefused(t: TestApp, jwt: string, message: RegExp): Promise<void> {
  const res = await t.http.get('/api/v1/membership/me').set('Authorization', `Bearer ${jwt}`);
  expect(res.status).toBe(401);
  expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED' });
  expect(res.body.message).toMatch(message);
  const err = await connectClient(t.url, { token: jwt }).then(
    (c) => {
      c.close();
      return null;
    },
    (e: { message: string; data?: { code: string } }) => e,
  );
  expect(err).not.toBeNull();
  expect(err!.data?.code).toBe('UNAUTHENTICATED');
  expect(err!.message).toMatch(message);
}

async function expectAccepted(t: TestApp, jwt: string): Promise<void> {
  await t.http.get('/api/v1/membership/me').set('Authorization', `Bearer ${jwt}`).expect(200);
  const client = await connectClient(t.url, { token: jwt });
  client.close();
}

describe('token rules (REST and WebSocket)', () => {
  const { t } = useApp({ JWT_MAX_TTL_SECONDS: '3600' });

  it('refuses a token without exp', () => expectRefused(t, token({ sub: 'u1', iat: now() }), /no expiry/));

  it('refuses a token living longer than JWT_MAX_TTL_SECONDS, measured from iat, or from now without iat', async () => {
    await expectRefused(t, token({ sub: 'u1', iat: now() - 10, exp: now() + 3600 }), /longer than 3600/);
    await expectRefused(t, token({ sub: 'u1', exp: now() + 3700 }), /longer than 3600/);
  });

  it('refuses iat in the future beyond 30 s, and nbf/exp judged with the same 30 s tolerance', async () => {
    await expectRefused(t, token({ sub: 'u1', iat: now() + 120, exp: now() + 600 }), /future/);
    await expectRefused(t, token({ sub: 'u1', iat: now(), nbf: now() + 120, exp: now() + 600 }), /invalid/);
    await expectRefused(t, token({ sub: 'u1', iat: now() - 200, exp: now() - 60 }), /expired/);
    // Within the tolerance: a clock 20 s ahead at the issuer, a token expired 10 s ago.
    await expectAccepted(t, token({ sub: 'u1', iat: now() + 20, nbf: now() + 20, exp: now() + 600 }));
    await t.http
      .get('/api/v1/membership/me')
      .set('Authorization', `Bearer ${token({ sub: 'u1', iat: now() - 100, exp: now() - 10 })}`)
      .expect(200);
  });

  it('says a token signed with another secret is that, and how to get one this service accepts', async () => {
    const other = token({ sub: 'u1', iat: now(), exp: now() + 600 }, 'another-secret-of-at-least-32-characters!!');
    await expectRefused(t, other, /signed with another secret than this service verifies with \(JWT_SECRET\)/);
    const res = await t.http.get('/api/v1/membership/me').set('Authorization', `Bearer ${other}`);
    expect(res.body.message).toMatch(/npm run -s token -- <userId>/);
    // A token that is not even a JWT stays merely invalid.
    await expectRefused(t, 'not.a.token', /The token is invalid/);
  });

  it('accepts a token within the rules, and the helper signs within them', async () => {
    await expectAccepted(t, token({ sub: 'u1', iat: now(), exp: now() + 3600 }));
    await expectAccepted(t, token({ sub: 'u1', exp: now() + 3000 }));
    await expectAccepted(t, t.token('u1'));
  });
});

describe('token issuer and audience', () => {
  const { t } = useApp({ JWT_ISSUER: 'https://users.example.com', JWT_AUDIENCE: 'memberpay' });

  it('requires both to match when configured', async () => {
    const base = { sub: 'u2', iat: now(), exp: now() + 600 };
    await expectRefused(t, token(base), /invalid/);
    await expectRefused(t, token({ ...base, iss: 'https://evil.example.com', aud: 'memberpay' }), /invalid/);
    await expectRefused(t, token({ ...base, iss: 'https://users.example.com', aud: 'another-service' }), /invalid/);
    await expectAccepted(t, token({ ...base, iss: 'https://users.example.com', aud: 'memberpay' }));
    await expectAccepted(t, t.token('u2'));
  });
});
