// The policy inputs of issue 18 against the shipped policies: who is on call (the catalog's
// schedule), one approval for on-call prod-admin up to 1h, the escalation group, who reviews
// break-glass access; and the catalog's new fields, validated at load with file, line and field.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type OnCallSchedule, scheduleSource } from '../../common/oncall.js';
import { POLICIES_DIR, PolicyEngine, PolicyLoadError, type Principal } from '../../policies/engine.js';

const HOUR = 3600;
const alice: Principal = { sub: 'alice', email: 'alice@example.test', groups: ['engineers'] };
const bob: Principal = { sub: 'bob', groups: ['reviewers'] };
const dave: Principal = { sub: 'dave', groups: ['auditors'] };
const erin: Principal = { sub: 'erin', email: 'erin@example.test', groups: ['engineers', 'oncall'] };

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the shipped policies with catalog.yaml edited. */
function policiesWith(edit: (catalog: string) => string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jit-follow-up-'));
  dirs.push(dir);
  for (const name of ['schema.cedarschema', 'policies.cedar', 'catalog.yaml'])
    copyFileSync(join(POLICIES_DIR, name), join(dir, name));
  const path = join(dir, 'catalog.yaml');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  return { dir, path };
}

describe('on-call schedule', () => {
  const monday = Date.parse('2026-01-05T09:00:00Z');
  const schedule: OnCallSchedule = {
    rotations: [
      {
        name: 'primary',
        startMs: monday,
        shiftSeconds: 7 * 24 * HOUR,
        people: ['erin', 'alice@example.test'],
      },
    ],
    overrides: [
      {
        rotation: 'primary',
        person: 'bob',
        fromMs: Date.parse('2026-01-20T00:00:00Z'),
        toMs: Date.parse('2026-01-21T00:00:00Z'),
      },
    ],
  };
  const onCall = scheduleSource(schedule);
  const at = (iso: string) => new Date(iso);

  test('people take turns shift by shift; nobody before the rotation starts', () => {
    assert.equal(onCall.isOnCall(erin, at('2026-01-05T09:00:00Z')), true, 'first shift');
    assert.equal(onCall.isOnCall(alice, at('2026-01-05T09:00:00Z')), false);
    assert.equal(onCall.isOnCall(alice, at('2026-01-12T09:00:00Z')), true, 'second shift, named by email');
    assert.equal(onCall.isOnCall(erin, at('2026-01-12T08:59:59Z')), true, 'until the hand-over');
    assert.equal(onCall.isOnCall(erin, at('2026-01-19T09:00:00Z')), true, 'round again');
    assert.equal(onCall.isOnCall(erin, at('2026-01-05T08:59:59Z')), false, 'before the start');
  });

  test('an override covers the rotation in place of whoever’s turn it is', () => {
    assert.equal(onCall.isOnCall(bob, at('2026-01-20T12:00:00Z')), true);
    assert.equal(onCall.isOnCall(erin, at('2026-01-20T12:00:00Z')), false);
    assert.equal(onCall.isOnCall(erin, at('2026-01-21T00:00:00Z')), true, 'the override has ended');
  });

  test('an email names a person in canonical form; a sub must match exactly', () => {
    assert.equal(
      onCall.isOnCall({ sub: 'x', email: 'Alice+pager@Example.TEST' }, at('2026-01-12T10:00:00Z')),
      true,
    );
    assert.equal(onCall.isOnCall({ sub: 'ERIN' }, at('2026-01-05T10:00:00Z')), false);
  });
});

describe('policy inputs', () => {
  const engine = PolicyEngine.load();
  const now = new Date('2026-03-02T10:00:00Z');
  const ask = (who: Principal, seconds: number) =>
    engine.evaluateRequest(who, 'prod-admin', {
      durationSeconds: seconds,
      reason: 'fix',
      ticket: 'INC-1',
      now,
    });

  test('on call (the shipped rotation has erin), prod-admin for up to 1h needs one approval instead of two', () => {
    assert.equal(engine.isOnCall(erin, now), true);
    const oneHour = ask(erin, HOUR);
    assert.equal(oneHour.allowed, true);
    assert.equal(oneHour.approvalsRequired, 1);
    assert.deepEqual(oneHour.policyIds, ['request-by-requester-group', 'on-call-prod-admin-one-approval']);
    assert.equal(ask(erin, HOUR + 60).approvalsRequired, 2, 'longer than 1h');
    assert.equal(ask(alice, HOUR).approvalsRequired, 2, 'not on call');
    assert.equal(ask(alice, HOUR).policyIds.includes('on-call-prod-admin-one-approval'), false);
  });

  test('the schedule decides, not the oncall group: an override puts alice on call', () => {
    // Right after the rotations: the catalog goes on with other sections.
    const { dir } = policiesWith((text) =>
      text.replace(
        '      people: [erin]\n',
        '      people: [erin]\n  overrides:\n    - { rotation: primary, person: alice, from: 2026-03-02T00:00:00Z, to: 2026-03-03T00:00:00Z }\n',
      ),
    );
    const covered = PolicyEngine.load(dir);
    const decision = covered.evaluateRequest(alice, 'prod-admin', {
      durationSeconds: HOUR,
      reason: 'fix',
      ticket: 'INC-1',
      now,
    });
    assert.equal(decision.approvalsRequired, 1);
    assert.equal(
      covered.evaluateRequest(erin, 'prod-admin', {
        durationSeconds: HOUR,
        reason: 'fix',
        ticket: 'INC-1',
        now,
      }).approvalsRequired,
      2,
      'erin is covered for that day',
    );
  });

  test('an escalation group may approve only once the request has escalated', () => {
    const { dir } = policiesWith((text) =>
      text.replace(
        '    approvalTimeout: 30m\n',
        '    approvalTimeout: 30m\n    escalateAfter: 10m\n    escalationGroup: auditors\n',
      ),
    );
    const escalating = PolicyEngine.load(dir);
    assert.equal(escalating.mayApprove(dave, 'prod-admin', 'alice').allowed, false);
    const after = escalating.mayApprove(dave, 'prod-admin', 'alice', { escalated: true });
    assert.deepEqual(after, { allowed: true, policyIds: ['approve-by-escalation-group'] });
    assert.equal(
      escalating.mayApprove(dave, 'prod-admin', 'dave', { escalated: true }).allowed,
      false,
      'never their own',
    );
    assert.equal(
      engine.mayApprove(dave, 'prod-admin', 'alice', { escalated: true }).allowed,
      false,
      'no group, no widening',
    );
  });

  test('break-glass access is reviewed by the role’s reviewers, never by the person who used it', () => {
    assert.deepEqual(engine.mayReview(bob, 'breakglass-admin', 'erin'), {
      allowed: true,
      policyIds: ['review-by-reviewer-group'],
    });
    const self = engine.mayReview(
      { ...erin, groups: [...erin.groups, 'reviewers'] },
      'breakglass-admin',
      'erin',
    );
    assert.deepEqual(self, { allowed: false, policyIds: ['no-self-review'], reason: 'self_approval' });
    assert.equal(engine.mayReview(dave, 'breakglass-admin', 'erin').allowed, false);
    const role = engine.role('breakglass-admin');
    assert.deepEqual(role?.review, {
      deadlineSeconds: 24 * HOUR,
      escalateEverySeconds: 4 * HOUR,
      escalationChannel: '#security-escalations',
    });
  });
});

describe('catalog fields, checked at load', () => {
  const lineOf = (path: string, needle: string) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .findIndex((line) => line.includes(needle)) + 1;

  function expectError(edit: (text: string) => string, needle: string, pattern: RegExp): void {
    const { dir, path } = policiesWith(edit);
    assert.throws(
      () => PolicyEngine.load(dir),
      (err: unknown) => {
        assert.ok(err instanceof PolicyLoadError, String(err));
        assert.equal(err.file, path);
        assert.equal(err.line, lineOf(path, needle), err.message);
        assert.match(err.message, pattern);
        return true;
      },
    );
  }

  test('durations are readable and checked: a bad one names file, line, role and field', () => {
    expectError(
      (text) => text.replace('reviewDeadline: 24h', 'reviewDeadline: 24 hours'),
      'reviewDeadline: 24 hours',
      /catalog\.yaml:\d+:\d+: role "breakglass-admin", field reviewDeadline: invalid duration "24 hours"/,
    );
  });

  test('a reminder or escalation later than the approval timeout is refused', () => {
    expectError(
      (text) =>
        text.replace('    approvalTimeout: 30m\n', '    approvalTimeout: 30m\n    remindAfter: 45m\n'),
      'remindAfter: 45m',
      /role "prod-admin", field remindAfter: must be shorter than approvalTimeout \(30m\)/,
    );
  });

  test('follow-up fields that cannot apply are refused, naming the field', () => {
    expectError(
      (text) =>
        text.replace(
          '    approvalTimeout: 30m\n',
          '    approvalTimeout: 30m\n    escalationGroup: auditors\n',
        ),
      'escalationGroup: auditors',
      /field escalationGroup: needs escalateAfter/,
    );
    expectError(
      (text) =>
        text.replace('    approvalTimeout: 30m\n', '    approvalTimeout: 30m\n    reviewDeadline: 1h\n'),
      'reviewDeadline: 1h',
      /role "prod-admin", field reviewDeadline: is only for breakGlass roles/,
    );
    expectError(
      (text) => text.replace('    reviewDeadline: 24h\n', '    reviewDeadline: 24h\n    remindAfter: 5m\n'),
      'remindAfter: 5m',
      /role "breakglass-admin", field remindAfter: a breakGlass role never waits for approval/,
    );
  });

  test('the on-call schedule is checked too', () => {
    expectError(
      (text) => text.replace('start: 2025-01-06T09:00:00Z', 'start: next monday'),
      'start: next monday',
      /onCall\.rotations\.0\.start: expected a time/,
    );
    expectError(
      (text) =>
        text.replace(
          '      people: [erin]\n',
          '      people: [erin]\n  overrides:\n    - { rotation: secondary, person: alice, from: 2026-03-02T00:00:00Z, to: 2026-03-03T00:00:00Z }\n',
        ),
      'rotation: secondary',
      /onCall\.overrides\.0\.rotation: no such rotation/,
    );
  });
});
