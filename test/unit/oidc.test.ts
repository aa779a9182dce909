// The dev OIDC issuer and the device-flow login helper, checked the way the API will check tokens.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { allowInsecureRequests, discovery, None, refreshTokenGrant } from 'openid-client';
import { pino } from 'pino';
import { deviceLogin } from '../../infra/oidc/device-login.js';
import { type DevIssuer, startDevIssuer } from '../../infra/oidc/issuer.js';

const logger = pino({ level: 'warn' });
let dir: string;
let keysFile: string;
let issuer: DevIssuer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-oidc-test-'));
  keysFile = join(dir, 'oidc', 'jwks.json');
  issuer = await startDevIssuer({ port: 0, keysFile, logger });
});

after(async () => {
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

// What the API does: JWKS from discovery, then issuer, audience and an algorithm allow-list.
async function verifyAccessToken(token: string): Promise<JWTPayload> {
  const metadata = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  const { payload } = await jwtVerify(token, jwks, {
    issuer: issuer.url,
    audience: 'jit-broker-api',
    algorithms: ['RS256', 'ES256'],
  });
  return payload;
}

test('device login gives alice and dave API access tokens with sub, email and groups', async () => {
  const alice = await verifyAccessToken(
    (await deviceLogin({ issuer: issuer.url, user: 'alice' })).access_token,
  );
  assert.equal(alice.sub, 'alice');
  assert.equal(alice.email, 'alice@example.test');
  assert.deepEqual(alice.groups, ['engineers']);
  assert.ok(typeof alice.exp === 'number' && typeof alice.iat === 'number' && alice.exp > alice.iat);

  const dave = await verifyAccessToken(
    (await deviceLogin({ issuer: issuer.url, user: 'dave' })).access_token,
  );
  assert.equal(dave.sub, 'dave');
  assert.equal(dave.email, 'dave@example.test');
  assert.deepEqual(dave.groups, ['auditors']);
});

test('a wrong password is refused', async () => {
  await assert.rejects(
    deviceLogin({ issuer: issuer.url, user: 'bob', password: 'not-bob' }),
    /refused \(HTTP 401\)/,
  );
});

test('the signing key is kept in the keys file with mode 0600', async () => {
  const { mode } = await stat(keysFile);
  assert.equal(mode & 0o777, 0o600);
});

test('a refresh token grant returns a new access token', async () => {
  const tokens = await deviceLogin({ issuer: issuer.url, user: 'erin' });
  assert.ok(tokens.refresh_token, 'offline_access should yield a refresh token');
  const config = await discovery(new URL(issuer.url), 'jit-cli', undefined, None(), {
    execute: [allowInsecureRequests],
  });
  const refreshed = await refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  const erin = await verifyAccessToken(refreshed.access_token);
  assert.equal(erin.sub, 'erin');
  assert.deepEqual(erin.groups, ['engineers', 'oncall']);
});

test('tokens stay verifiable after the issuer restarts with the same keys file', async () => {
  const { access_token } = await deviceLogin({ issuer: issuer.url, user: 'carol' });
  const { port } = new URL(issuer.url);
  await issuer.close();
  issuer = await startDevIssuer({ port: Number(port), keysFile, logger });
  const carol = await verifyAccessToken(access_token);
  assert.equal(carol.sub, 'carol');
  assert.deepEqual(carol.groups, ['reviewers']);
});
