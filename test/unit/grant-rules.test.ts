// The grant workflow's rules as pure functions: no stack, no Temporal (the fast lane).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AssertionClaims } from '../../common/assertion.js';
import {
  checkApprove,
  checkCancel,
  checkDeny,
  checkExtend,
  checkIssueCredentials,
  checkRevoke,
  type GrantFacts,
  Refusal,
} from '../../workflows/grant/validators.js';

const alice = { sub: 'alice-sub', email: 'alice@example.test', groups: ['engineers'] };
const bob = { sub: 'bob-sub', email: 'bob@example.test', groups: ['reviewers'] };

const claims = (principal: AssertionClaims['principal'], allowed = true): AssertionClaims => ({
  v: 1,
  door: 'api',
  grantId: 'grant-X',
  action: 'approve',
  principal,
  verdict: { allowed, policyIds: ['p'] },
  updateId: 'u',
  argsDigest: 'd',
  iat: 0,
  exp: 1,
});

const pending = (overrides: Partial<GrantFacts> = {}): GrantFacts => ({
  decided: true,
  status: 'pending',
  requester: alice,
  view: { approvals: [], duration: 3600 },
  extensionInFlight: false,
  maxTotalDurationSeconds: 7200,
  ...overrides,
});
const active = (overrides: Partial<GrantFacts> = {}) => pending({ status: 'active', ...overrides });

const refusedWith = (code: string, fn: () => unknown) =>
  assert.throws(fn, (err: unknown) => err instanceof Refusal && err.code === code);

describe('approve', () => {
  test('an eligible reviewer approves the request', () => {
    assert.equal(checkApprove(pending(), claims(bob)), 'request');
  });
  test('the requester is refused, by sub and by an email that only looks different', () => {
    refusedWith('self_approval', () => checkApprove(pending(), claims(alice)));
    const twin = { sub: 'another-account', email: ' ALICE+work@Example.test. ', groups: ['reviewers'] };
    refusedWith('self_approval', () => checkApprove(pending(), claims(twin)));
  });
  test('workloads, ineligible people and repeat approvals are refused', () => {
    refusedWith('not_eligible', () =>
      checkApprove(pending(), claims({ kind: 'workload', sub: 'workload:ci', groups: ['reviewers'] })),
    );
    refusedWith('not_eligible', () => checkApprove(pending(), claims(bob, false)));
    const approved = pending({
      view: { approvals: [{ by: bob.sub, at: 't', policyIds: [] }], duration: 3600 },
    });
    refusedWith('already_approved', () => checkApprove(approved, claims(bob)));
  });
  test('before the policy decision, and after the end, nothing is approved', () => {
    refusedWith('grant_not_pending', () => checkApprove(pending({ decided: false }), claims(bob)));
    refusedWith('already_decided', () => checkApprove(pending({ status: 'revoked' }), claims(bob)));
  });
  test('a button for the request cannot approve a pending extension', () => {
    const extension = {
      durationSeconds: 600,
      reason: 'more',
      requestedAt: 't',
      requiredApprovals: 1,
      approvals: [],
    };
    const grant = active({ view: { approvals: [], duration: 3600, pendingExtension: extension } });
    assert.equal(checkApprove(grant, claims(bob)), 'extension');
    refusedWith('already_decided', () => checkApprove(grant, claims(bob), 'request'));
  });
});

describe('the other decisions', () => {
  test('deny needs a reason', () => {
    refusedWith('invalid_argument', () => checkDeny(pending(), claims(bob), '  '));
    assert.equal(checkDeny(pending(), claims(bob), 'no'), 'request');
  });
  test('the requester cancels while pending; anyone else needs an allowing verdict and a reason', () => {
    refusedWith('not_requester', () => checkCancel(pending(), claims(bob, false), 'kill switch'));
    refusedWith('invalid_argument', () => checkCancel(pending(), claims(bob), ' '));
    checkCancel(pending(), claims(bob), 'kill switch');
    refusedWith('grant_not_pending', () => checkCancel(active(), claims(alice)));
    checkCancel(pending(), claims(alice));
  });
  test('revoke: active grants, per policy, with a reason', () => {
    refusedWith('grant_not_active', () => checkRevoke(pending(), claims(alice), 'x'));
    refusedWith('not_eligible', () => checkRevoke(active(), claims(bob, false), 'x'));
    refusedWith('invalid_argument', () => checkRevoke(active(), claims(alice), ''));
    checkRevoke(active(), claims(alice), 'done');
  });
  test('extend: the requester, one at a time, within the cap, which is named in hours', () => {
    refusedWith('not_requester', () => checkExtend(active(), claims(bob), 600, 'x'));
    refusedWith('extension_pending', () =>
      checkExtend(active({ extensionInFlight: true }), claims(alice), 600, 'x'),
    );
    refusedWith('invalid_argument', () => checkExtend(active(), claims(alice), 0, 'x'));
    assert.throws(
      () => checkExtend(active(), claims(alice), 4000, 'x'),
      (err: unknown) =>
        err instanceof Refusal && err.code === 'extension_exceeds_cap' && /2h/.test(err.message),
    );
    checkExtend(active(), claims(alice), 3600, 'x');
  });
  test('credentials: the requester of an active grant only', () => {
    refusedWith('grant_not_active', () => checkIssueCredentials(pending(), claims(alice)));
    refusedWith('not_requester', () => checkIssueCredentials(active(), claims(bob)));
    checkIssueCredentials(active(), claims(alice));
  });
});
