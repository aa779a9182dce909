// The Step Functions contract and the sender mapping, without a stack: the message schema, the
// error names a state machine catches, and how SQS sender ids map to catalog workloads.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkIssuers, defaultPersonIssuer, parseIssuers } from '../../api/auth.js';
import { handoffErrorOf, handoffMessage } from '../../common/handoff.js';
import type { CatalogWorkload } from '../../policies/types.js';
import { WorkloadMatcher } from '../../policies/workloads.js';
import { SenderDirectory } from '../../queue/senders.js';

const request = {
  version: 1,
  action: 'request',
  role: 'prod-deploy',
  duration: '30m',
  reason: 'deploy shop 1.2.3',
  taskToken: 'AQB8AAAAKgAAAAMAAAAA...',
  execution: 'arn:aws:states:us-east-1:123456789012:execution:jit-deploy-pipeline:run-1',
  state: 'RequestDeployAccess',
};

describe('the queue message', () => {
  test('a request and a release parse; unknown fields, a missing token or a bad execution do not', () => {
    assert.equal(handoffMessage.safeParse(request).success, true);
    assert.equal(
      handoffMessage.safeParse({
        version: 1,
        action: 'release',
        grantId: 'grant-01JABCDEFGHJKMNPQRSTVWXYZ0',
        reason: 'done',
      }).success,
      true,
    );
    for (const [what, message] of Object.entries({
      'a requester field': { ...request, requester: 'alice' },
      'no task token': { ...request, taskToken: undefined },
      'not an execution ARN': {
        ...request,
        execution: 'arn:aws:states:us-east-1:123456789012:stateMachine:x',
      },
      'a heartbeat under 3 s': { ...request, heartbeatSeconds: 1 },
      'another version': { ...request, version: 2 },
    }))
      assert.equal(handoffMessage.safeParse(message).success, false, what);
  });

  test('how a grant ended names the error a state machine catches', () => {
    assert.equal(handoffErrorOf({ status: 'denied', byKind: 'person' }), 'Jit.Denied');
    assert.equal(handoffErrorOf({ status: 'denied', byKind: 'system' }), 'Jit.PolicyDenied');
    assert.equal(handoffErrorOf({ status: 'timed_out', byKind: 'system' }), 'Jit.TimedOut');
    assert.equal(handoffErrorOf({ status: 'cancelled', byKind: 'person' }), 'Jit.Cancelled');
    assert.equal(handoffErrorOf({ status: 'revoked', byKind: 'person' }), 'Jit.Ended');
    assert.equal(handoffErrorOf({ status: 'failed', byKind: 'system' }), 'Jit.Failed');
  });
});

describe('who sent a message', () => {
  const pipeline: CatalogWorkload = {
    name: 'deploy-pipeline',
    description: 'd',
    tokens: [],
    awsRoles: ['arn:aws:iam::123456789012:role/jit-deploy-pipeline-sfn'],
    awsPrincipalIds: [],
  };
  const runner: CatalogWorkload = {
    ...pipeline,
    name: 'runner',
    awsRoles: [],
    awsPrincipalIds: ['AIDAEXAMPLEUSER00001'],
  };

  test("a role session is its role's unique id and a session name; a user is its unique id", () => {
    const matcher = new WorkloadMatcher([pipeline, runner]);
    const ids = new Map([[pipeline.awsRoles[0] as string, 'AROAEXAMPLEROLE00001']]);
    assert.equal(
      matcher.forSender('AROAEXAMPLEROLE00001:7f1c2b3a-execution', ids)?.workload.name,
      'deploy-pipeline',
    );
    assert.equal(
      matcher.forSender('AROAEXAMPLEROLE00001:7f1c2b3a-execution', ids)?.awsRole,
      pipeline.awsRoles[0],
    );
    assert.equal(matcher.forSender('AIDAEXAMPLEUSER00001', ids)?.workload.name, 'runner');
    assert.equal(matcher.forSender('AROAOTHERROLE0000001:x', ids), undefined);
    assert.equal(matcher.forSender('', ids), undefined);
  });

  test('a role deleted and created again is a new identity: its old id maps to nobody', async () => {
    let current = 'AROAFIRSTROLEID00001';
    const directory = new SenderDirectory(new WorkloadMatcher([pipeline]), async () => current);
    await directory.refresh();
    assert.equal((await directory.lookup('AROAFIRSTROLEID00001:s'))?.workload.name, 'deploy-pipeline');
    current = 'AROASECONDROLEID0001';
    await directory.refresh();
    assert.equal(await directory.lookup('AROAFIRSTROLEID00001:s'), undefined);
    assert.equal((await directory.lookup('AROASECONDROLEID0001:s'))?.workload.name, 'deploy-pipeline');
  });
});

test('issuer sets: duplicates and a workload matched on an issuer of people are errors; unknown names warn', () => {
  const people = defaultPersonIssuer({
    issuer: 'https://idp.example.test',
    audience: 'api',
    groupsClaim: 'groups',
  });
  const [agents] = parseIssuers(
    'issuers:\n  - name: agents\n    issuer: https://idp.example.test\n    audience: agents\n    kind: workload\n    claims: { clientId: cid }\n',
    'f',
  );
  assert.ok(agents);
  const { errors, warnings } = checkIssuers(
    [people, agents, { ...agents, audience: 'api' }],
    [
      { workload: 'a', issuer: 'default' },
      { workload: 'b', issuer: 'github' },
    ],
  );
  assert.deepEqual(errors, [
    'issuer name "agents" is used twice',
    'issuer https://idp.example.test with audience api is configured twice',
    'catalog workload "a" names issuer "default", an issuer of people',
  ]);
  assert.deepEqual(warnings, ['catalog workload "b" names issuer "github", which is not configured']);
});
