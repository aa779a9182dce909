// Attacks by someone who can write to the Temporal namespace but is not a front door: forged
// identities, replayed or stale assertions, plaintext payloads, forged starts, a workflow
// terminated or reset by hand, a worker with the wrong keys. Each must change nothing: not the
// grant, not the audit trail, not the ledger.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { ulid } from 'ulid';
import type { AssertionAction } from '../common/assertion.js';
import {
  approveUpdate,
  cancelUpdate,
  denyUpdate,
  extendUpdate,
  type GrantStart,
  grantWorkflowType,
  issueCredentialsUpdate,
  ledgerStateQuery,
  ledgerWorkflowId,
  revokeUpdate,
} from '../common/grant-messages.js';
import { AssertionSigner, generateSigningKey, parseSigningKey } from '../platform/assertion-signer.js';
import { announceSigningKey } from '../platform/key-check.js';
import { generatePayloadKey } from '../platform/payload-codec.js';
import { eventually } from './support/assertions.js';
import { type DevUserName, principal, startTestBroker, type TestBroker } from './support/broker.js';
import { temporalClient, testSigningKey, testStack } from './support/stack.js';

let broker: TestBroker;
let plain: { client: Client; close(): Promise<void> };
let encrypted: { client: Client; close(): Promise<void> };

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  const connection = await Connection.connect({ address: testStack().temporalAddress });
  // No payload codec: what `temporal workflow update` sends.
  plain = { client: new Client({ connection }), close: () => connection.close() };
  encrypted = await temporalClient();
});
after(async () => {
  await plain.close();
  await encrypted.close();
  await broker.close();
});

const attacker = new AssertionSigner(parseSigningKey(generateSigningKey('test-fixture').signingKey), 'api');
const stranger = new AssertionSigner(parseSigningKey(generateSigningKey('mallory').signingKey), 'api');
const frontDoor = (now: () => number = Date.now) =>
  new AssertionSigner(parseSigningKey(testSigningKey), 'api', now);

/** What a grant looks like to its owners: the read model, its audit rows, its accepted updates. */
async function footprint(id: string) {
  const history = await broker.client.workflow.getHandle(id).fetchHistory();
  return {
    view: await broker.store.grants.get(id),
    audit: (await broker.store.grants.events(id)).length,
    updates: (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length,
  };
}

async function pendingAdmin(): Promise<WorkflowHandle> {
  return broker.request('alice', 'prod-admin', { durationSeconds: 3600, ticket: 'INC-9', reason: 'attack' });
}
async function activeReadonly(): Promise<WorkflowHandle> {
  const grant = await broker.request('alice', 'prod-readonly', { durationSeconds: 1800, reason: 'attack' });
  assert.equal((await broker.view(grant)).status, 'active');
  return grant;
}

const commands = {
  approve: { update: approveUpdate, args: { comment: 'lgtm' } },
  deny: { update: denyUpdate, args: { reason: 'no' } },
  cancel: { update: cancelUpdate, args: {} },
  revoke: { update: revokeUpdate, args: { reason: 'x' } },
  extend: { update: extendUpdate, args: { durationSeconds: 600, reason: 'more' } },
  issueCredentials: { update: issueCredentialsUpdate, args: {} },
} as const;
type CommandName = keyof typeof commands;

/** Sends one update straight to Temporal, as an attacker with namespace access would. */
async function sendRaw(
  client: Client,
  grantId: string,
  name: CommandName,
  args: Record<string, unknown>,
  updateId = ulid(),
): Promise<{ code?: string; message: string } | 'accepted'> {
  try {
    await client.workflow
      .getHandle(grantId)
      .executeUpdate(commands[name].update as never, { args: [args] as never, updateId });
    return 'accepted';
  } catch (err) {
    const cause = (err as { cause?: { type?: string; message?: string } }).cause;
    return { ...(cause?.type ? { code: cause.type } : {}), message: String(cause?.message ?? err) };
  }
}

async function signed(
  signer: AssertionSigner,
  grantId: string,
  action: AssertionAction,
  user: DevUserName,
  args: Record<string, unknown>,
  updateId: string,
  allowed = true,
) {
  const assertion = await signer.sign({
    grantId,
    action,
    principal: principal(user),
    verdict: { allowed, policyIds: ['approve-by-reviewer-group'] },
    updateId,
    args,
  });
  return { ...args, assertion };
}

/** Every command name with a grant in the state it needs. */
const targets: [CommandName, () => Promise<WorkflowHandle>, DevUserName][] = [
  ['approve', pendingAdmin, 'bob'],
  ['deny', pendingAdmin, 'bob'],
  ['cancel', pendingAdmin, 'alice'],
  ['revoke', activeReadonly, 'alice'],
  ['extend', activeReadonly, 'alice'],
  ['issueCredentials', activeReadonly, 'alice'],
];

describe('forged commands change nothing', () => {
  test('the reported attack: an approve naming mallory with a made-up verdict', async () => {
    const grant = await pendingAdmin();
    const before = await footprint(grant.workflowId);
    const forged = {
      by: { sub: 'mallory', email: 'mallory@evil.test', groups: ['reviewers'] },
      authorization: { allowed: true, policyIds: ['approve-by-reviewer-group'] },
    };
    // As reported: plaintext, with the temporal CLI.
    const asReported = await sendRaw(plain.client, grant.workflowId, 'approve', forged);
    assert.equal((asReported as { code: string }).code, 'payload_not_encrypted');
    // Even with the payload key: no signed assertion, no decision.
    const withKey = await sendRaw(encrypted.client, grant.workflowId, 'approve', forged);
    assert.equal((withKey as { code: string }).code, 'assertion_missing');
    assert.deepEqual(await footprint(grant.workflowId), before);
  });

  for (const [name, make, user] of targets) {
    test(`${name}: unsigned, signed with a stranger's key, or with a forged key under the real id`, async () => {
      const grant = await make();
      const before = await footprint(grant.workflowId);
      const { args } = commands[name];
      assert.equal(
        ((await sendRaw(encrypted.client, grant.workflowId, name, { ...args })) as { code: string }).code,
        'assertion_missing',
      );
      const id1 = ulid();
      const byStranger = await signed(stranger, grant.workflowId, name, user, { ...args }, id1);
      assert.equal(
        ((await sendRaw(encrypted.client, grant.workflowId, name, byStranger, id1)) as { code: string }).code,
        'assertion_unknown_key',
      );
      const id2 = ulid();
      const forgedKey = await signed(attacker, grant.workflowId, name, user, { ...args }, id2);
      assert.equal(
        ((await sendRaw(encrypted.client, grant.workflowId, name, forgedKey, id2)) as { code: string }).code,
        'assertion_invalid',
      );
      assert.deepEqual(await footprint(grant.workflowId), before);
    });
  }

  test('a valid assertion replayed on another grant, for another action, after expiry, or with other arguments', async () => {
    const a = await pendingAdmin();
    const b = await pendingAdmin();
    const beforeA = await footprint(a.workflowId);
    const beforeB = await footprint(b.workflowId);
    const updateId = ulid();
    const bobApprovesA = await signed(
      frontDoor(),
      a.workflowId,
      'approve',
      'bob',
      { comment: 'ok' },
      updateId,
    );
    const code = async (
      grant: WorkflowHandle,
      name: CommandName,
      args: Record<string, unknown>,
      id = updateId,
    ) => ((await sendRaw(encrypted.client, grant.workflowId, name, args, id)) as { code?: string }).code;
    assert.equal(await code(b, 'approve', bobApprovesA), 'assertion_mismatch', 'another grant');
    assert.equal(
      await code(a, 'deny', { ...bobApprovesA, reason: 'x' }),
      'assertion_mismatch',
      'another action',
    );
    assert.equal(
      await code(a, 'approve', { ...bobApprovesA, comment: 'other' }),
      'assertion_mismatch',
      'other arguments',
    );
    assert.equal(await code(a, 'approve', bobApprovesA, ulid()), 'assertion_mismatch', 'another update id');
    const stale = await signed(
      frontDoor(() => Date.now() - 5 * 60_000),
      a.workflowId,
      'approve',
      'bob',
      {},
      updateId,
    );
    assert.equal(await code(a, 'approve', stale), 'assertion_expired');
    assert.deepEqual(await footprint(a.workflowId), beforeA);
    assert.deepEqual(await footprint(b.workflowId), beforeB);
  });

  test("bob's assertion used by carol gets carol nothing: the signed principal is the only actor", async () => {
    const grant = await pendingAdmin();
    const before = await footprint(grant.workflowId);
    // Carol takes bob's signed approval and sends it as her own update.
    const bobs = await signed(frontDoor(), grant.workflowId, 'approve', 'bob', {}, ulid());
    const answer = await sendRaw(encrypted.client, grant.workflowId, 'approve', bobs, `carol:${ulid()}`);
    assert.equal((answer as { code: string }).code, 'assertion_mismatch');
    assert.deepEqual(await footprint(grant.workflowId), before);
  });

  test('a plaintext payload is refused before any workflow code sees it', async () => {
    const grant = await pendingAdmin();
    const before = await footprint(grant.workflowId);
    const updateId = ulid();
    const valid = await signed(frontDoor(), grant.workflowId, 'approve', 'bob', {}, updateId);
    const answer = await sendRaw(plain.client, grant.workflowId, 'approve', valid, updateId);
    assert.equal((answer as { code: string }).code, 'payload_not_encrypted');
    assert.deepEqual(await footprint(grant.workflowId), before);
  });
});

describe('forged starts start nothing', () => {
  test('a start of an auto-approved role signed with a forged key fails without a trace', async () => {
    const grantId = `grant-${ulid()}`;
    const body = {
      v: 2 as const,
      request: { grantId, roleId: 'prod-readonly', durationSeconds: 1800, reason: 'forged' },
    };
    const assertion = await attacker.sign({
      grantId,
      action: 'request',
      principal: principal('alice'),
      verdict: { allowed: true, policyIds: [] },
      updateId: 'start',
      args: body,
    });
    const start: GrantStart = { ...body, assertion };
    const handle = await encrypted.client.workflow.start(grantWorkflowType, {
      taskQueue: broker.taskQueue,
      workflowId: grantId,
      args: [start],
    });
    await assert.rejects(
      handle.result(),
      (err: { cause?: { type?: string } }) => err.cause?.type === 'assertion_invalid',
    );
    assert.equal(await broker.store.grants.get(grantId), undefined);
    assert.equal((await broker.store.grants.events(grantId)).length, 0);
  });

  test('a plaintext start fails at once and records nothing', async () => {
    const grantId = `grant-${ulid()}`;
    const handle = await plain.client.workflow.start(grantWorkflowType, {
      taskQueue: broker.taskQueue,
      workflowId: grantId,
      args: [
        {
          grantId,
          requester: principal('alice'),
          roleId: 'prod-readonly',
          durationSeconds: 1800,
          reason: 'x',
        },
      ],
    });
    await assert.rejects(
      handle.result(),
      (err: { cause?: { type?: string } }) => err.cause?.type === 'payload_not_encrypted',
    );
    assert.equal(await broker.store.grants.get(grantId), undefined);
    assert.equal((await broker.store.grants.events(grantId)).length, 0);
  });
});

describe('Temporal-side actions on a grant', () => {
  test('a workflow terminated by hand: the reconciler denies its sessions and records the end', async () => {
    const grant = await activeReadonly();
    await broker.credentials(grant, 'alice');
    await grant.terminate('operator pressed the button');
    await broker.startReconciler(1);
    const ended = await eventually(
      'reconciled',
      async () => {
        const view = await broker.view(grant);
        return view.endedAt ? view : undefined;
      },
      30_000,
    );
    assert.equal(ended.status, 'revoked');
    assert.match(ended.endReason ?? '', /terminated outside the broker/);
    const events = await broker.store.grants.events(grant.workflowId);
    const last = events.at(-1);
    assert.equal(last?.type, 'grant.revoked');
    assert.equal(JSON.parse(last?.data ?? '{}').reconciled, true);
    const ledger = broker.client.workflow.getHandle(
      ledgerWorkflowId(broker.roleArns['prod-readonly'] as string),
    );
    const state = await eventually('ledger entry', async () => {
      const s = await ledger.query(ledgerStateQuery);
      return s.entries.some((e) => e.grantId === grant.workflowId) ? s : undefined;
    });
    assert.ok(state.entries.some((e) => e.grantId === grant.workflowId));
    assert.deepEqual(await broker.store.verify().then((r) => r.ok), true);
  });

  test('a grant reset to before its end never issues credentials again', async () => {
    const grant = await broker.request('alice', 'prod-readonly', { durationSeconds: 2, reason: 'reset me' });
    await broker.credentials(grant, 'alice');
    await eventually('expired', async () =>
      (await broker.view(grant)).status === 'expired' ? true : undefined,
    );
    const sessionsBefore = (await broker.view(grant)).sessions.length;
    const history = await grant.fetchHistory();
    const firstTask = (history.events ?? []).find((e) => e.workflowTaskCompletedEventAttributes);
    await broker.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: grant.workflowId },
      reason: 'operator rewinds the grant',
      workflowTaskFinishEventId: firstTask?.eventId,
      requestId: ulid(),
    });
    const answer = await broker.service.credentials(principal('alice'), grant.workflowId).then(
      () => 'issued',
      (err: { code?: string }) => err.code,
    );
    assert.notEqual(answer, 'issued');
    const view = await broker.view(grant);
    assert.equal(view.status, 'expired', 'the read model keeps the recorded end');
    assert.equal(view.sessions.length, sessionsBefore);
    const issued = (await broker.store.grants.events(grant.workflowId)).filter(
      (e) => e.type === 'grant.credentials_issued',
    );
    assert.equal(issued.length, sessionsBefore);
  });
});

describe('key hygiene', () => {
  test('a worker with another payload key under the same id refuses to start', async () => {
    const first = await broker.spawnWorker();
    const wrong = generatePayloadKey('test-fixture');
    const second = await broker.spawnWorker({ JIT_PAYLOAD_KEYS: wrong });
    if (second.exitCode === null) await once(second, 'exit');
    assert.equal(second.exitCode, 1);
    assert.match(second.output(), /payload key "test-fixture" is not the key other broker processes use/);
    if (first.exitCode === null) {
      first.kill('SIGTERM');
      await once(first, 'exit');
    }
  });

  test('a worker missing a front door verification key refuses to start', async () => {
    await announceSigningKey(broker.store.keys, parseSigningKey(generateSigningKey('door-2').signingKey));
    const child = await broker.spawnWorker();
    if (child.exitCode === null) await once(child, 'exit');
    assert.equal(child.exitCode, 1);
    assert.match(child.output(), /front doors sign with assertion key "door-2"/);
  });
});
