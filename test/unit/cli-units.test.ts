// The CLI's pure parts: where its settings come from, how times read, how values are quoted.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseInstant } from '../../cli/commands/audit.js';
import { shellQuote } from '../../cli/commands/creds.js';
import { loadConfig, parseMargin, settingKey } from '../../cli/config.js';
import { formatDuration, humanizeSeconds, relativeTime } from '../../cli/output.js';

test('API and issuer URLs: flag, then env, then config file, then the local stack', () => {
  const home = mkdtempSync(join(tmpdir(), 'jit-config-'));
  const env = { XDG_CONFIG_HOME: home };
  assert.deepEqual(loadConfig({}, env), {
    apiUrl: 'http://127.0.0.1:8080',
    issuer: 'http://127.0.0.1:4444',
    clientId: 'jit-cli',
    scopes: 'openid profile email groups offline_access',
    credsRefreshMarginSeconds: 300,
    dir: join(home, 'jit'),
  });
  mkdirSync(join(home, 'jit'));
  writeFileSync(
    join(home, 'jit', 'config.json'),
    JSON.stringify({ apiUrl: 'https://jit.example.com/', issuer: 'https://idp.example.com' }),
  );
  assert.equal(loadConfig({}, env).apiUrl, 'https://jit.example.com');
  assert.equal(loadConfig({}, env).issuer, 'https://idp.example.com');
  const withEnv = { ...env, JIT_API_URL: 'https://env.example.com', JIT_OIDC_ISSUER: 'https://idp.env' };
  assert.equal(loadConfig({}, withEnv).apiUrl, 'https://env.example.com');
  assert.equal(loadConfig({}, withEnv).issuer, 'https://idp.env');
  assert.equal(loadConfig({ api: 'https://flag.example.com' }, withEnv).apiUrl, 'https://flag.example.com');
  assert.equal(loadConfig({ issuer: 'https://idp.flag' }, withEnv).issuer, 'https://idp.flag');
  assert.throws(() => loadConfig({ api: 'not a url' }, env), /apiUrl "not a url" is not an http\(s\) URL/);
  writeFileSync(join(home, 'jit', 'config.json'), '[');
  assert.throws(() => loadConfig({}, env), /config\.json is not a JSON object/);
});

test('relative times and durations read like a person says them', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  assert.equal(relativeTime('2025-01-01T12:58:00Z', now), 'in 58m');
  assert.equal(relativeTime('2025-01-01T11:57:00Z', now), '3m ago');
  assert.equal(relativeTime('2025-01-01T12:00:05Z', now), 'just now');
  assert.equal(relativeTime('2025-01-01T13:30:00Z', now), 'in 1h30m');
  assert.equal(relativeTime(undefined, now), '-');
  assert.equal(formatDuration(3600), '1h');
  assert.equal(formatDuration(45), '45s');
  assert.equal(formatDuration(90_061), '1d1h');
});

test('shell quoting survives quotes and dollars', () => {
  assert.equal(shellQuote(`a'b$c`), `'a'\\''b$c'`);
});

test('login settings: client id, scopes and audience from env or the config file', () => {
  const home = mkdtempSync(join(tmpdir(), 'jit-config-'));
  mkdirSync(join(home, 'jit'));
  writeFileSync(
    join(home, 'jit', 'config.json'),
    JSON.stringify({ oidcClientId: 'jit-okta', oidcAudience: 'api://jit', credsRefreshMargin: '10m' }),
  );
  const env = { XDG_CONFIG_HOME: home };
  const fromFile = loadConfig({}, env);
  assert.equal(fromFile.clientId, 'jit-okta');
  assert.equal(fromFile.audience, 'api://jit');
  assert.equal(fromFile.credsRefreshMarginSeconds, 600);
  const fromEnv = loadConfig({}, { ...env, JIT_OIDC_CLIENT_ID: 'other', JIT_OIDC_SCOPES: 'openid groups' });
  assert.equal(fromEnv.clientId, 'other');
  assert.equal(fromEnv.scopes, 'openid groups');
  assert.throws(() => loadConfig({}, { ...env, JIT_OIDC_SCOPES: 'groups' }), /must include openid/);
  assert.throws(() => loadConfig({}, { ...env, JIT_CREDS_REFRESH_MARGIN: 'soon' }), /not a duration/);
  assert.equal(parseMargin('90s'), 90);
  assert.equal(parseMargin('0'), 0);
  assert.equal(settingKey('api-url'), 'apiUrl');
  assert.equal(settingKey('JIT_OIDC_AUDIENCE'), 'oidcAudience');
  assert.equal(settingKey('nope'), undefined);
});

test('audit time bounds: a plain day is its start in UTC; times need an offset', () => {
  assert.equal(parseInstant('2026-12-01'), '2026-12-01T00:00:00Z');
  assert.equal(parseInstant('2026-12-01T09:30:00+02:00'), '2026-12-01T09:30:00+02:00');
  assert.equal(parseInstant('2026-12-01T09:30Z'), '2026-12-01T09:30Z');
  assert.equal(parseInstant('2026-02-30'), undefined);
  assert.equal(parseInstant('2026-12-01T09:30:00'), undefined, 'no offset: whose 09:30?');
  assert.equal(parseInstant('yesterday'), undefined);
});

test('seconds in API messages read as durations', () => {
  assert.equal(
    humanizeSeconds('the role allows at most 28800s in total; this grant has 30600s'),
    'the role allows at most 8h in total; this grant has 8h30m',
  );
  assert.equal(humanizeSeconds('no decision within 3600s'), 'no decision within 1h');
  assert.equal(humanizeSeconds('retry in 30s'), 'retry in 30s');
});
