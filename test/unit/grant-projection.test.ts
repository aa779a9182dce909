// The grant view as a fold of its audit events (common/grant-projection.ts): the rule both the
// workflow's answers and the read model use.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEventInput } from '../../common/audit-event.js';
import { foldGrant, projectGrant } from '../../common/grant-projection.js';

let seq = 0;
const event = (type: AuditEventInput['type'], actor: string, data: Record<string, unknown>, at: string) => ({
  eventId: `grant-A:${++seq}`,
  occurredAt: at,
  grantId: 'grant-A',
  type,
  actor,
  actorEmail: actor === 'alice' ? 'alice@example.test' : null,
  roleId: 'prod-admin',
  requester: 'alice',
  data,
});

const lifecycle = [
  event(
    'grant.requested',
    'alice',
    {
      reason: 'INC-1',
      ticket: 'INC-1',
      durationSeconds: 3600,
      role: { arn: 'arn:r', account: '1' },
      allowed: true,
      autoApproved: false,
      breakGlass: false,
      requiredApprovals: 2,
      policyIds: ['p'],
      reasons: [],
    },
    '2026-01-01T00:00:00.000Z',
  ),
  event(
    'grant.approval_recorded',
    'bob',
    { approvals: 1, of: 2, comment: 'ok', policyIds: ['a'] },
    '2026-01-01T00:01:00.000Z',
  ),
  event(
    'grant.approval_recorded',
    'carol',
    { approvals: 2, of: 2, policyIds: ['a'] },
    '2026-01-01T00:02:00.000Z',
  ),
  event(
    'grant.activated',
    'system',
    { expiresAt: '2026-01-01T01:02:00.000Z', approvers: ['bob', 'carol'], breakGlass: false },
    '2026-01-01T00:02:00.000Z',
  ),
  event(
    'grant.credentials_issued',
    'alice',
    {
      sessionName: 's1',
      accessKeyId: 'ASIA1',
      sourceIdentity: 'alice',
      expiresAt: '2026-01-01T01:02:00.000Z',
      assumedRoleArn: 'arn:s',
    },
    '2026-01-01T00:03:00.000Z',
  ),
  event(
    'grant.extension_requested',
    'alice',
    { durationSeconds: 600, reason: 'more', policyIds: [], autoApproved: false, requiredApprovals: 1 },
    '2026-01-01T00:10:00.000Z',
  ),
  event(
    'grant.approval_recorded',
    'bob',
    { approvals: 1, of: 1, extension: true, policyIds: [] },
    '2026-01-01T00:11:00.000Z',
  ),
  event(
    'grant.extended',
    'system',
    { durationSeconds: 600, expiresAt: '2026-01-01T01:12:00.000Z', approvals: ['bob'] },
    '2026-01-01T00:11:00.000Z',
  ),
  event(
    'grant.revoked',
    'bob',
    { reason: 'revoked by bob: done', sessionsDenied: ['s1'] },
    '2026-01-01T00:30:00.000Z',
  ),
];

test('a whole lifecycle folds into the grant view', () => {
  const view = foldGrant(lifecycle);
  assert.ok(view);
  assert.equal(view.status, 'revoked');
  assert.deepEqual(view.requester, { sub: 'alice', email: 'alice@example.test' });
  assert.deepEqual(view.role, { id: 'prod-admin', arn: 'arn:r', account: '1' });
  assert.deepEqual(
    view.approvals.map((a) => [a.by, a.comment]),
    [
      ['bob', 'ok'],
      ['carol', undefined],
    ],
  );
  assert.equal(view.duration, 4200);
  assert.equal(view.expiresAt, '2026-01-01T01:12:00.000Z');
  assert.equal(view.extensions, 1);
  assert.equal(view.pendingExtension, undefined);
  assert.deepEqual(
    view.sessions.map((s) => s.accessKeyId),
    ['ASIA1'],
  );
  assert.equal(view.endedAt, '2026-01-01T00:30:00.000Z');
  assert.equal(view.endedBy, 'bob');
  assert.deepEqual(
    view.timeline.map((t) => t.type),
    [
      'requested',
      'approved',
      'approved',
      'activated',
      'credentials_issued',
      'extension_requested',
      'approved',
      'extended',
      'revoked',
    ],
  );
});

test('nothing moves an ended grant, and the first end wins', () => {
  const ended = foldGrant(lifecycle);
  const late = projectGrant(
    ended,
    event('grant.activated', 'system', { expiresAt: '2027-01-01T00:00:00.000Z' }, '2026-01-02T00:00:00.000Z'),
  );
  assert.deepEqual(late, ended);
  const again = projectGrant(
    ended,
    event('grant.expired', 'system', { reason: 'time' }, '2026-01-02T00:00:00.000Z'),
  );
  assert.equal(again?.status, 'revoked');
});

test('events before the request, or of other kinds, change nothing', () => {
  assert.equal(projectGrant(undefined, lifecycle[1] as AuditEventInput), undefined);
  const requested = projectGrant(undefined, lifecycle[0] as AuditEventInput);
  assert.deepEqual(
    projectGrant(requested, { ...(lifecycle[1] as AuditEventInput), type: 'ledger.entries_added' }),
    requested,
  );
});

test('the fold never mutates the view it was given', () => {
  const requested = projectGrant(undefined, lifecycle[0] as AuditEventInput);
  const copy = structuredClone(requested);
  projectGrant(requested, lifecycle[1] as AuditEventInput);
  assert.deepEqual(requested, copy);
});
