// Signed assertions (common/assertion.ts, platform/assertion-signer.ts): what the workflow accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError, parseVerificationKeys, verifyAssertion } from '../../common/assertion.js';
import { AssertionSigner, generateSigningKey, parseSigningKey } from '../../platform/assertion-signer.js';

const { signingKey, verificationKey } = generateSigningKey('k1');
const keys = parseVerificationKeys(verificationKey);
const now = 1_800_000_000_000;
const signer = new AssertionSigner(parseSigningKey(signingKey), 'api', () => now);
const principal = { sub: 'bob', groups: ['reviewers'] };
const decision = {
  grantId: 'grant-A',
  action: 'approve' as const,
  principal,
  verdict: { allowed: true, policyIds: ['p'] },
  updateId: 'u1',
  args: { comment: 'ok' },
};
const expect = {
  grantId: 'grant-A',
  action: 'approve' as const,
  updateId: 'u1',
  args: { comment: 'ok' },
  now,
};
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return err instanceof AssertionError ? err.code : String(err);
  }
};

test('a front door signature verifies and carries the principal and verdict', async () => {
  const claims = verifyAssertion(await signer.sign(decision), keys, expect);
  assert.deepEqual(claims.principal, principal);
  assert.deepEqual(claims.verdict, { allowed: true, policyIds: ['p'] });
});

test('it is bound to the grant, the action, the update id, the arguments and its expiry', async () => {
  const jws = await signer.sign(decision);
  assert.equal(
    code(() => verifyAssertion(jws, keys, { ...expect, grantId: 'grant-B' })),
    'assertion_mismatch',
  );
  assert.equal(
    code(() => verifyAssertion(jws, keys, { ...expect, action: 'deny' })),
    'assertion_mismatch',
  );
  assert.equal(
    code(() => verifyAssertion(jws, keys, { ...expect, updateId: 'u2' })),
    'assertion_mismatch',
  );
  assert.equal(
    code(() => verifyAssertion(jws, keys, { ...expect, args: { comment: 'other' } })),
    'assertion_mismatch',
  );
  assert.equal(
    code(() => verifyAssertion(jws, keys, { ...expect, now: now + 61_000 })),
    'assertion_expired',
  );
  assert.equal(
    code(() => verifyAssertion(jws, keys, { ...expect, now: now - 31_000 })),
    'assertion_expired',
  );
});

test('missing, malformed, tampered, unknown-key and other-key assertions are refused', async () => {
  const jws = await signer.sign(decision);
  assert.equal(
    code(() => verifyAssertion(undefined, keys, expect)),
    'assertion_missing',
  );
  assert.equal(
    code(() => verifyAssertion('not.a-jws', keys, expect)),
    'assertion_invalid',
  );
  const [h, p, s] = jws.split('.') as [string, string, string];
  const forged = Buffer.from(
    JSON.stringify({
      ...JSON.parse(Buffer.from(p, 'base64url').toString()),
      verdict: { allowed: true, policyIds: ['forged'] },
    }),
  ).toString('base64url');
  assert.equal(
    code(() => verifyAssertion(`${h}.${forged}.${s}`, keys, expect)),
    'assertion_invalid',
  );
  assert.equal(
    code(() => verifyAssertion(jws, new Map(), expect)),
    'assertion_unknown_key',
  );
  const other = parseVerificationKeys(generateSigningKey('k1').verificationKey);
  assert.equal(
    code(() => verifyAssertion(jws, other, expect)),
    'assertion_invalid',
  );
});
