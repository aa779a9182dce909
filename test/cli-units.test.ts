// The CLI's pure parts: where its settings come from, how times read, how values are quoted.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { shellQuote } from '../cli/commands/creds.js';
import { loadConfig } from '../cli/config.js';
import { formatDuration, relativeTime } from '../cli/output.js';

test('API and issuer URLs: flag, then env, then config file, then the local stack', () => {
  const home = mkdtempSync(join(tmpdir(), 'jit-config-'));
  const env = { XDG_CONFIG_HOME: home };
  assert.deepEqual(loadConfig({}, env), {
    apiUrl: 'http://127.0.0.1:8080',
    issuer: 'http://127.0.0.1:4444',
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
  assert.throws(() => loadConfig({ api: 'not a url' }, env), /API URL "not a url" is not a URL/);
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
