// API authentication against real tokens from the dev OIDC issuer, plus a small signing issuer of
// our own (discovery + JWKS) for the claims, key and outage cases the dev issuer cannot produce.
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, mock, test } from 'node:test';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type CryptoKey, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { pino } from 'pino';
import {
  AuthError,
  type Authenticator,
  type AuthFailure,
  createAuthenticator,
  registerAuth,
  wwwAuthenticate,
} from '../../api/auth.js';
import { deviceLogin } from '../../infra/oidc/device-login.js';
import { type DevIssuer, startDevIssuer } from '../../infra/oidc/issuer.js';

const AUDIENCE = 'jit-broker-api';
const BARE_CHALLENGE = 'Bearer realm="jit-broker"';

// Every token the tests handle, to prove none of them reaches a response or a log line.
const tokens = new Set<string>();
const track = (token: string) => {
  tokens.add(token);
  return token;
};
const logLines: string[] = [];
const logger: FastifyBaseLogger = pino(
  { level: 'info' },
  { write: (line: string) => void logLines.push(line) },
);

let dir: string;
let keysFile: string;
let devIssuer: DevIssuer;
let signer: SigningIssuer;
let devApp: FastifyInstance;
let ownApp: FastifyInstance;
let alice: string;
let dave: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-auth-test-'));
  keysFile = join(dir, 'jwks.json');
  devIssuer = await startDevIssuer({ port: 0, keysFile, logger: pino({ level: 'warn' }) });
  alice = track((await deviceLogin({ issuer: devIssuer.url, user: 'alice' })).access_token);
  dave = track((await deviceLogin({ issuer: devIssuer.url, user: 'dave' })).access_token);
  signer = await startSigningIssuer();
  devApp = await buildApp(devAuthenticator());
  ownApp = await buildApp(
    createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'groups' }),
  );
});

after(async () => {
  await devApp?.close();
  await ownApp?.close();
  await signer?.close();
  await devIssuer?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a dev issuer access token authenticates alice with her email and groups', async () => {
  const res = await call(devApp, `Bearer ${alice}`);
  assert.equal(res.status, 200, res.raw);
  assert.deepEqual(res.body, { sub: 'alice', email: 'alice@example.test', groups: ['engineers'] });
});

test('dave authenticates with the auditors group; the scheme is case-insensitive', async () => {
  const res = await call(devApp, `bearer ${dave}`);
  assert.equal(res.status, 200, res.raw);
  assert.deepEqual(res.body, { sub: 'dave', email: 'dave@example.test', groups: ['auditors'] });
});

test('public routes answer without a token; unknown paths answer 404 without one', async () => {
  assert.equal((await devApp.inject({ url: '/health' })).statusCode, 200);
  assert.equal((await devApp.inject({ url: '/no-such-route' })).statusCode, 404);
});

test('a request without a token gets 401 and a bare Bearer challenge', async () => {
  const res = await call(devApp, undefined);
  assertRefused(res, alice);
  assert.equal(res.challenge, BARE_CHALLENGE);
});

test('an Authorization header that is not "Bearer <token>" is refused as invalid_request', async () => {
  for (const header of [
    'Basic xxx',
    `Basic ${alice}`,
    'Bearer',
    'Bearer ',
    `Token ${alice}`,
    alice,
    `Bearer ${alice} ${alice}`,
    `Bearer "${alice}"`,
  ]) {
    const res = await call(devApp, header);
    assertRefused(res, alice, 'invalid_request');
  }
});

test('forged tokens are refused as invalid_token without being echoed', async () => {
  const [header, payload] = alice.split('.') as [string, string];
  const kid = decodeProtectedHeader(alice).kid;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const issuerJwk = await fetchIssuerJwk(devIssuer.url);
  const publicKeyPem = Buffer.from(
    createPublicKey({ key: issuerJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
  );
  const otherRsa = await generateKeyPair('RS256');
  const forge = (alg: string) => new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'at+jwt' });

  const forged = {
    'alg none': `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`,
    'HS256 keyed with the issuer public key': await forge('HS256').sign(publicKeyPem),
    'HS256 keyed with a random secret': await forge('HS256').sign(randomBytes(32)),
    "another RSA key under the issuer's kid": await forge('RS256').sign(otherRsa.privateKey),
    'payload swapped for more groups': `${header}.${b64({ ...claims, groups: ['reviewers'] })}.${alice.split('.')[2]}`,
    'garbage in JWT shape': 'aaa.bbb.ccc',
  };
  for (const [name, token] of Object.entries(forged)) {
    const res = await call(devApp, `Bearer ${track(token)}`);
    assertRefused(res, token, 'invalid_token', name);
  }
});

test('a token from an issuer nobody configured is a 401 unknown_issuer', async () => {
  const token = track(await signer.sign());
  const res = await call(devApp, `Bearer ${token}`);
  assertRefused(res, token, 'invalid_token', 'another issuer', 'unknown_issuer');
  assert.equal(res.body.error.message, 'tokens from this issuer are not accepted here');
});

test('an expired token is refused as expired, with a matching challenge', async () => {
  const token = track(await signer.sign({ exp: now() - 120 }));
  const res = await call(ownApp, `Bearer ${token}`);
  assertRefused(res, token, 'invalid_token');
  assert.equal(res.body.error.message, 'the token has expired');
  assert.equal(
    res.challenge,
    `${BARE_CHALLENGE}, error="invalid_token", error_description="the token has expired"`,
  );
});

test('claims are checked: not yet valid, no sub or exp, wrong audience or issuer, wrong typ', async () => {
  const auth = createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'groups' });
  const cases: Record<string, Promise<string>> = {
    'nbf in the future': signer.sign({ nbf: now() + 120 }),
    'no sub': signer.sign({ sub: undefined }),
    'empty sub': signer.sign({ sub: '' }),
    'numeric sub': signer.sign({ sub: 42 }),
    'no exp': signer.sign({ exp: undefined }),
    'wrong audience': signer.sign({ aud: 'another-api' }),
    'no audience': signer.sign({ aud: undefined }),
    'a logout token': signer.sign({}, { typ: 'logout+jwt' }),
    'a key the issuer does not publish': signer.sign({}, { kid: 'unpublished' }),
  };
  for (const [name, pending] of Object.entries(cases)) {
    await assertRejects(auth, await pending, 'invalid_token', name);
  }
  await assertRejects(auth, await signer.sign({ exp: now() - 120 }), 'expired', 'expired');
  await assertRejects(auth, await signer.sign({ iss: 'https://idp.example.test' }), 'unknown_issuer', 'iss');
});

test('clock skew within the tolerance, audience lists and the usual typ values are accepted', async () => {
  const auth = createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'groups' });
  const accepted: Record<string, Promise<string>> = {
    'expired 10 s ago': signer.sign({ exp: now() - 10 }),
    'valid from 10 s from now': signer.sign({ nbf: now() + 10 }),
    'audience in a list': signer.sign({ aud: ['another-api', AUDIENCE] }),
    'typ JWT': signer.sign({}, { typ: 'JWT' }),
    'typ application/at+jwt': signer.sign({}, { typ: 'application/at+jwt' }),
    'no typ': signer.sign({}, { typ: undefined }),
  };
  for (const [name, pending] of Object.entries(accepted)) {
    const principal = await auth.authenticate(`Bearer ${track(await pending)}`);
    assert.equal(principal.sub, 'zed', name);
  }
  const strict = createAuthenticator({
    issuer: signer.url,
    audience: AUDIENCE,
    groupsClaim: 'groups',
    clockToleranceSeconds: 0,
  });
  await assertRejects(strict, await signer.sign({ exp: now() - 10 }), 'expired', 'no tolerance');
});

test('groups come from a custom claim; a string is one group, anything else none; email only if a string', async () => {
  const auth = createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'cognito:groups' });
  const principal = async (claims: Record<string, unknown>) =>
    auth.authenticate(`Bearer ${track(await signer.sign(claims))}`);

  assert.deepEqual(await principal({ 'cognito:groups': ['engineers', 'oncall'], groups: ['ignored'] }), {
    sub: 'zed',
    email: 'zed@example.test',
    groups: ['engineers', 'oncall'],
  });
  assert.deepEqual((await principal({ 'cognito:groups': 'reviewers' })).groups, ['reviewers']);
  assert.deepEqual((await principal({ 'cognito:groups': ['a', 1, null, 'b'] })).groups, ['a', 'b']);
  assert.deepEqual((await principal({ 'cognito:groups': { admin: true } })).groups, []);
  assert.deepEqual((await principal({})).groups, []);
  assert.deepEqual(await principal({ 'cognito:groups': 'x', email: 42 }), { sub: 'zed', groups: ['x'] });
});

test('discovery and the JWKS are fetched once for many requests', async () => {
  const before = { ...signer.hits };
  const auth = createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'groups' });
  const token = track(await signer.sign());
  await Promise.all(Array.from({ length: 5 }, () => auth.authenticate(`Bearer ${token}`)));
  await auth.authenticate(`Bearer ${token}`);
  assert.deepEqual(signer.hits, { discovery: before.discovery + 1, jwks: before.jwks + 1 });
});

test('a new signing key is picked up once the JWKS cooldown has passed', async () => {
  const auth = createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'groups' });
  await auth.authenticate(`Bearer ${track(await signer.sign())}`);
  await signer.addKey('k2', { publish: true });
  const rotated = track(await signer.sign({}, { kid: 'k2' }));
  const jwksFetches = signer.hits.jwks;
  // Within the cooldown an unknown kid does not refetch: forged kids cannot hammer the issuer.
  await assertRejects(auth, rotated, 'invalid_token', 'unknown kid within the cooldown');
  assert.equal(signer.hits.jwks, jwksFetches);
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  try {
    mock.timers.tick(31_000);
    assert.equal((await auth.authenticate(`Bearer ${rotated}`)).sub, 'zed');
    assert.equal(signer.hits.jwks, jwksFetches + 1);
  } finally {
    mock.timers.reset();
  }
});

test('a discovery document that names another issuer is refused', async () => {
  signer.claimedIssuer = 'https://idp.example.test';
  try {
    const auth = createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'groups' });
    await assert.rejects(
      auth.warmUp(),
      (err) => err instanceof AuthError && err.reason === 'issuer_unreachable',
    );
    const app = await buildApp(auth);
    const token = track(await signer.sign());
    const res = await call(app, `Bearer ${token}`);
    assertRefused(res, token);
    assert.equal(res.challenge, BARE_CHALLENGE);
    await app.close();
  } finally {
    signer.claimedIssuer = undefined;
  }
});

test('an unreachable issuer or JWKS is a 401 issuer_unreachable, retried on the next request', async () => {
  const token = track(await signer.sign());
  for (const failing of ['discovery', 'jwks'] as const) {
    const auth = createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'groups' });
    signer.failing = failing;
    try {
      await assertRejects(auth, token, 'issuer_unreachable', `${failing} failing`);
    } finally {
      signer.failing = undefined;
    }
    assert.equal((await auth.authenticate(`Bearer ${token}`)).sub, 'zed', `${failing} back`);
  }

  // The token names the configured issuer, which cannot be reached.
  const closed = await closedPortUrl();
  const app = await buildApp(
    createAuthenticator({ issuer: closed, audience: AUDIENCE, groupsClaim: 'groups' }),
  );
  const unjudged = track(await signer.sign({ iss: closed }));
  const res = await call(app, `Bearer ${unjudged}`);
  assertRefused(res, unjudged);
  assert.equal(res.challenge, BARE_CHALLENGE, 'the token was not judged: no error code');
  assert.match(res.body.error.message, /cannot be reached/);
  await app.close();
});

test('tokens outlive a dev issuer restart with the same keys', async () => {
  const warm = devAuthenticator();
  await warm.warmUp();
  await devIssuer.close();
  // Keys already fetched keep working while the issuer is down; a cold authenticator cannot start.
  assert.equal((await warm.authenticate(`Bearer ${alice}`)).sub, 'alice');
  await assertRejects(devAuthenticator(), alice, 'issuer_unreachable', 'cold while down');

  devIssuer = await startDevIssuer({
    port: Number(new URL(devIssuer.url).port),
    keysFile,
    logger: pino({ level: 'warn' }),
  });
  assert.equal((await devAuthenticator().authenticate(`Bearer ${alice}`)).sub, 'alice');
  const fresh = track((await deviceLogin({ issuer: devIssuer.url, user: 'alice' })).access_token);
  assert.equal((await warm.authenticate(`Bearer ${fresh}`)).sub, 'alice');
});

test('symmetric or unsigned algorithms cannot be configured', () => {
  for (const algorithms of [['HS256'], ['RS256', 'none'], []]) {
    assert.throws(() =>
      createAuthenticator({ issuer: signer.url, audience: AUDIENCE, groupsClaim: 'g', algorithms }),
    );
  }
});

test('wwwAuthenticate follows RFC 6750', () => {
  assert.equal(wwwAuthenticate(), BARE_CHALLENGE);
  assert.equal(wwwAuthenticate(new AuthError('missing_token', 'no token')), BARE_CHALLENGE);
  assert.equal(
    wwwAuthenticate(new AuthError('malformed_header', 'say "Bearer"\\')),
    `${BARE_CHALLENGE}, error="invalid_request", error_description="say 'Bearer''"`,
  );
  assert.equal(
    wwwAuthenticate(new AuthError('invalid_token', 'bad')),
    `${BARE_CHALLENGE}, error="invalid_token", error_description="bad"`,
  );
});

test('failures are logged with their reason and no log line carries a token', () => {
  const entries = logLines.map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string });
  const failures = entries.filter((entry) => entry.msg === 'authentication failed');
  assert.ok(failures.some((entry) => entry.reason === 'missing_token' && entry.level === 40));
  assert.ok(failures.some((entry) => entry.reason === 'invalid_token' && entry.level === 40));
  assert.ok(failures.some((entry) => entry.reason === 'issuer_unreachable' && entry.level === 50));
  assert.ok(tokens.size > 20);
  for (const line of logLines) {
    for (const token of tokens)
      assert.ok(!line.includes(token), `a log line carries a token: ${line.slice(0, 120)}`);
  }
});

// --- helpers ---------------------------------------------------------------------------------------

function devAuthenticator(): Authenticator {
  return createAuthenticator({ issuer: devIssuer.url, audience: AUDIENCE, groupsClaim: 'groups' });
}

async function buildApp(authenticator: Authenticator): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger });
  registerAuth(app, authenticator);
  app.get('/whoami', async (req) => req.principal);
  app.get('/health', { config: { public: true } }, async () => ({ status: 'ok' }));
  await app.ready();
  return app;
}

interface Answer {
  status: number;
  challenge: string | undefined;
  body: { error: { code: string; message: string; requestId: unknown } };
  raw: string;
}

async function call(app: FastifyInstance, authorization: string | undefined): Promise<Answer> {
  const res = await app.inject({
    url: '/whoami',
    headers: authorization === undefined ? {} : { authorization },
  });
  const challenge = res.headers['www-authenticate'];
  return { status: res.statusCode, challenge: challenge?.toString(), body: res.json(), raw: res.body };
}

function assertRefused(
  res: Answer,
  token: string,
  error?: string,
  name = '',
  code = 'unauthenticated',
): void {
  assert.equal(res.status, 401, `${name}: ${res.raw}`);
  assert.equal(res.body.error.code, code, name);
  assert.equal(typeof res.body.error.requestId, 'string', name);
  assert.ok(!res.raw.includes(token), `${name}: the response echoes the token`);
  assert.ok(res.challenge?.startsWith(BARE_CHALLENGE), name);
  if (error) assert.ok(res.challenge?.includes(`error="${error}"`), `${name}: ${res.challenge}`);
}

async function assertRejects(auth: Authenticator, token: string, reason: AuthFailure, name: string) {
  await assert.rejects(auth.authenticate(`Bearer ${track(token)}`), (err) => {
    assert.ok(err instanceof AuthError, name);
    assert.equal(err.reason, reason, `${name}: ${err.detail}`);
    assert.ok(!`${err.message} ${err.detail}`.includes(token), `${name}: the error carries the token`);
    return true;
  });
}

async function fetchIssuerJwk(issuer: string): Promise<JWK> {
  const { jwks_uri } = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const { keys } = (await (await fetch(jwks_uri)).json()) as { keys: JWK[] };
  assert.ok(keys[0]);
  return keys[0];
}

const now = () => Math.floor(Date.now() / 1000);

async function closedPortUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

// An OIDC issuer reduced to discovery and a JWKS, with ES256 keys the test holds, so it can sign
// any claims. `claimedIssuer` makes discovery lie; `failing` makes an endpoint answer 500.
interface SigningIssuer {
  url: string;
  claimedIssuer?: string;
  failing?: 'discovery' | 'jwks';
  hits: { discovery: number; jwks: number };
  addKey(kid: string, opts: { publish: boolean }): Promise<void>;
  /** Claims over sensible defaults (undefined removes one); header fields likewise. */
  sign(claims?: Record<string, unknown>, header?: { kid?: string; typ?: string }): Promise<string>;
  close(): Promise<void>;
}

async function startSigningIssuer(): Promise<SigningIssuer> {
  const privateKeys = new Map<string, CryptoKey>();
  const published: JWK[] = [];
  const server = createServer((req, res) => {
    const endpoint =
      req.url === '/.well-known/openid-configuration'
        ? 'discovery'
        : req.url === '/jwks'
          ? 'jwks'
          : undefined;
    if (!endpoint) return void res.writeHead(404).end();
    issuer.hits[endpoint] += 1;
    if (issuer.failing === endpoint) return void res.writeHead(500).end();
    const body =
      endpoint === 'jwks'
        ? { keys: published }
        : { issuer: issuer.claimedIssuer ?? issuer.url, jwks_uri: `${issuer.url}/jwks` };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const issuer: SigningIssuer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: { discovery: 0, jwks: 0 },
    async addKey(kid, { publish }) {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      privateKeys.set(kid, privateKey);
      if (publish) published.push({ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
    },
    async sign(claims = {}, header = {}) {
      const { kid = 'k1', ...rest } = header;
      const typ = 'typ' in header ? rest.typ : 'at+jwt';
      let key = privateKeys.get(kid);
      if (!key) {
        await issuer.addKey(kid, { publish: false });
        key = privateKeys.get(kid) as CryptoKey;
      }
      const payload = {
        iss: issuer.url,
        aud: AUDIENCE,
        sub: 'zed',
        email: 'zed@example.test',
        groups: ['engineers'],
        iat: now(),
        exp: now() + 300,
        ...claims,
      };
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid, ...(typ ? { typ } : {}) })
        .sign(key);
    },
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
  await issuer.addKey('k1', { publish: true });
  return issuer;
}
