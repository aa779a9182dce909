// Bearer token checks: real dev-issuer tokens pass; every forged or misdirected token is refused.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { AuthError, createAuthenticator } from '../api/auth.js';
import { deviceLogin } from '../infra/oidc/device-login.js';
import { testStack } from './support/stack.js';

const AUDIENCE = 'jit-broker-api';

/** A tiny issuer whose key we hold, so tests can sign whatever claims they need. */
let server: Server;
let issuer: string;
let privateKey: CryptoKey;
let strangerKey: CryptoKey;
let publicJwk: JWK;

before(async () => {
  ({ privateKey, publicKey: publicJwk } = await generateKeyPair('RS256').then(async (pair) => ({
    privateKey: pair.privateKey,
    publicKey: { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' },
  })));
  strangerKey = (await generateKeyPair('RS256')).privateKey;
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (req.url === '/jwks') {
      res.end(JSON.stringify({ keys: [publicJwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const now = () => Math.floor(Date.now() / 1000);

function sign(
  claims: Record<string, unknown>,
  opts: { key?: CryptoKey; iss?: string; aud?: string; exp?: number } = {},
) {
  return new SignJWT({ sub: 'alice', email: 'alice@example.test', groups: ['engineers'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? now() + 300)
    .sign(opts.key ?? privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusedAs(reason: string, token: string, groupsClaim = 'groups') {
  const auth = createAuthenticator({ issuer, audience: AUDIENCE, groupsClaim });
  await assert.rejects(
    () => auth.authenticate(`Bearer ${token}`),
    (err: Error) => {
      assert.ok(err instanceof AuthError);
      assert.equal(err.reason, reason);
      assert.equal(err.message.includes(token), false, 'an error never repeats the token');
      return true;
    },
  );
}

describe('accepted', () => {
  test('a dev-issuer access token from the device flow gives the principal with groups', async () => {
    const stack = testStack();
    const auth = createAuthenticator({ issuer: stack.oidcIssuer, audience: AUDIENCE, groupsClaim: 'groups' });
    const { access_token } = await deviceLogin({ issuer: stack.oidcIssuer, user: 'dave' });
    assert.deepEqual(await auth.authenticate(`Bearer ${access_token}`), {
      sub: 'dave',
      email: 'dave@example.test',
      groups: ['auditors'],
    });
  });

  test('groups come from a configurable claim', async () => {
    const auth = createAuthenticator({ issuer, audience: AUDIENCE, groupsClaim: 'cognito:groups' });
    const token = await sign({ groups: undefined, 'cognito:groups': ['reviewers'] });
    assert.deepEqual((await auth.authenticate(`Bearer ${token}`)).groups, ['reviewers']);
  });
});

describe('refused', () => {
  test('no header, another scheme, garbage', async () => {
    const auth = createAuthenticator({ issuer, audience: AUDIENCE, groupsClaim: 'groups' });
    await assert.rejects(() => auth.authenticate(undefined), { reason: 'missing_token' });
    await assert.rejects(() => auth.authenticate('Basic YWxpY2U6YWxpY2U='), { reason: 'malformed_header' });
    await refusedAs('invalid_token', 'not-a-jwt');
  });

  test('alg none', async () => {
    await refusedAs(
      'invalid_token',
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', iss: issuer, aud: AUDIENCE, exp: now() + 300 })}.`,
    );
  });

  test('HS256 signed with the public key as the secret', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const token = await new SignJWT({ sub: 'alice', groups: ['auditors'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setExpirationTime(now() + 300)
      .sign(secret);
    await refusedAs('invalid_token', token);
  });

  test('signed by another key under the issuer key id', async () => {
    await refusedAs('invalid_token', await sign({}, { key: strangerKey }));
  });

  test('wrong issuer, wrong audience', async () => {
    await refusedAs('invalid_token', await sign({}, { iss: 'https://evil.example' }));
    await refusedAs('invalid_token', await sign({}, { aud: 'some-other-api' }));
  });

  test('expired beyond the clock skew; not yet valid', async () => {
    await refusedAs('expired', await sign({}, { exp: now() - 120 }));
    await refusedAs('invalid_token', await sign({ nbf: now() + 600 }));
  });

  test('no subject', async () => {
    await refusedAs('invalid_token', await sign({ sub: undefined }));
  });

  test('an issuer whose discovery names another issuer', async () => {
    const auth = createAuthenticator({ issuer: `${issuer}/`, audience: AUDIENCE, groupsClaim: 'groups' });
    const token = await sign({});
    await assert.rejects(() => auth.authenticate(`Bearer ${token}`), { reason: 'issuer_unreachable' });
  });
});
