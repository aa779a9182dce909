// `npm run keys`: what an operator pastes into a secret store must be what the processes accept,
// and a fresh key each time.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseVerificationKeys } from '../common/assertion.js';
import { repoRoot } from '../infra/paths.js';
import { parseSigningKey } from '../platform/assertion-signer.js';
import { parsePayloadKeys } from '../platform/payload-codec.js';

const keys = (...args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'infra/keys.ts'), ...args], {
    encoding: 'utf8',
  }).trim();

test('payload and console keys parse as JIT_PAYLOAD_KEYS, and differ each time', () => {
  const first = keys('payload', 'p1');
  const [parsed] = parsePayloadKeys(first);
  assert.equal(parsed?.id, 'p1');
  assert.notEqual(keys('payload', 'p1'), first);
  assert.equal(parsePayloadKeys(keys('console', 'c1'))[0]?.id, 'c1');
});

test('an assertion key pair: the signing key for front doors, its public half for workers', () => {
  const lines = Object.fromEntries(
    keys('assertion', 'a1')
      .split('\n')
      .map((l) => l.split(/=(.*)/s)),
  );
  const signing = parseSigningKey(lines.JIT_ASSERTION_SIGNING_KEY as string);
  const verify = parseVerificationKeys(lines.JIT_ASSERTION_VERIFY_KEYS as string);
  assert.equal(signing.kid, 'a1');
  assert.deepEqual([...verify.keys()], ['a1']);
  assert.deepEqual(Buffer.from(verify.get('a1') ?? []), Buffer.from(signing.publicKey));
});

test('a bad kind or key id is a usage error (exit 64), printing nothing to paste', () => {
  for (const args of [['bogus'], ['payload', 'bad id!']]) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'infra/keys.ts'), ...args], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 64, args.join(' '));
    assert.equal(run.stdout, '');
  }
});
