// Pipelines and AI agents as principals, through the real API on the real stack: tokens from more
// than one issuer (the dev issuer's client-credentials clients, and a GitHub-Actions-like issuer
// the test signs for), catalog workloads, Cedar policies that name them, acting for a person,
// never reviewing, refusals on the audit trail, and who may pull the kill switch.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAuthenticator, defaultPersonIssuer, IssuersFileError, parseIssuers } from '../api/auth.js';
import { devIssuersYaml } from '../infra/oidc/dev-clients.js';
import { parseCatalog } from '../policies/catalog.js';
import { PolicyLoadError } from '../policies/engine.js';
import { startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { startTestIssuer, type TestIssuer } from './support/signing-issuer.js';
import { testStack } from './support/stack.js';

let broker: TestBroker;
let api: TestApi;
let github: TestIssuer;
let stranger: TestIssuer;

before(async () => {
  github = await startTestIssuer();
  stranger = await startTestIssuer();
  broker = await startTestBroker({
    // The shop's workflow is also recognised by GitHub Actions-style claims.
    workloads: {
      'ci-deployer': {
        tokens: [
          { issuer: 'dev-workloads', attributes: { clientId: 'ci-deployer' } },
          { issuer: 'gha', attributes: { repository: 'acme/shop' } },
        ],
      },
    },
  });
  await broker.startWorker();
  api = await startTestApi(broker, undefined, {
    issuers: [
      ...parseIssuers(devIssuersYaml(testStack().oidcIssuer), 'dev issuers'),
      ...parseIssuers(
        `issuers:
  - name: gha
    issuer: ${github.url}
    audience: jit-broker
    kind: workload
    algorithms: [ES256]
    claims: { repository: repository, ref: ref, environment: environment, jobWorkflowRef: job_workflow_ref }
`,
        'gha issuers',
      ),
    ],
  });
});
after(async () => {
  await api?.close();
  await broker?.close();
  await github?.close();
  await stranger?.close();
});

const request = (role: string, duration: string, extra: Record<string, unknown> = {}) => ({
  role,
  duration,
  reason: 'nightly job',
  ...extra,
});

/** A GitHub Actions-like token for the shop's repository; claims override. */
const githubToken = (claims: Record<string, unknown> = {}) =>
  github.sign({
    aud: 'jit-broker',
    sub: 'repo:acme/shop:environment:production',
    repository: 'acme/shop',
    ref: 'refs/heads/main',
    environment: 'production',
    job_workflow_ref: 'acme/shop/.github/workflows/deploy.yml@refs/heads/main',
    ...claims,
  });

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function auditEvents(query: string): Promise<Record<string, any>[]> {
  const res = await api.call('GET', `/v1/audit/events?${query}`, { user: 'dave' });
  assert.equal(res.status, 200, String(res.body));
  return String(res.body)
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('who a token is', () => {
  test('a ci-deployer client-credentials token is the workload ci-deployer, read access auto-approved', async () => {
    const res = await api.call('POST', '/v1/requests', {
      user: 'ci-deployer',
      body: request('prod-readonly', '20m'),
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'active');
    assert.deepEqual(res.body.requester, { sub: 'workload:ci-deployer', kind: 'workload' });
    assert.ok(res.body.policyIds.includes('ci-deployer-auto-approved-30m'), res.body.policyIds);
    const creds = await api.call('POST', `/v1/requests/${res.body.id}/credentials`, { user: 'ci-deployer' });
    assert.equal(creds.status, 200);
    assert.equal(creds.body.Version, 1);
    // Every event of the grant says what kind of actor it was.
    const kinds = (await auditEvents(`grant=${res.body.id}`)).map((e) => [e.type, e.data.actorKind]);
    assert.deepEqual(kinds, [
      ['grant.requested', 'workload'],
      ['grant.activated', 'system'],
      ['grant.credentials_issued', 'workload'],
    ]);
  });

  test('GitHub Actions claims decide: main in production may deploy, a feature branch may not', async () => {
    const main = await api.call('POST', '/v1/requests', {
      headers: bearer(await githubToken()),
      body: request('prod-deploy', '20m'),
    });
    assert.equal(main.status, 201, JSON.stringify(main.body));
    assert.equal(main.body.requester.sub, 'workload:ci-deployer');

    const feature = await api.call('POST', '/v1/requests', {
      headers: bearer(await githubToken({ ref: 'refs/heads/feature' })),
      body: request('prod-deploy', '20m'),
    });
    assert.equal(feature.status, 403, JSON.stringify(feature.body));
    assert.equal(feature.body.error.code, 'policy_denied');
    assert.match(feature.body.error.message, /no policy lets workload:ci-deployer request prod-deploy/);
  });

  test('claims that map to no workload are 403 workload_not_mapped', async () => {
    const res = await api.call('GET', '/v1/roles', {
      headers: bearer(await githubToken({ repository: 'acme/other' })),
    });
    assert.equal(res.status, 403, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'workload_not_mapped');
  });

  test('an unconfigured issuer is 401 unknown_issuer; a configured one with another audience 401', async () => {
    const strangers = await api.call('GET', '/v1/roles', {
      headers: bearer(
        await stranger.sign({ aud: 'jit-broker', sub: 'repo:acme/shop', repository: 'acme/shop' }),
      ),
    });
    assert.equal(strangers.status, 401);
    assert.equal(strangers.body.error.code, 'unknown_issuer');
    assert.match(strangers.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

    const otherAudience = await api.call('GET', '/v1/roles', {
      headers: bearer(await githubToken({ aud: 'another-api' })),
    });
    assert.equal(otherAudience.status, 401);
    assert.equal(otherAudience.body.error.code, 'unauthenticated');
  });

  test("a person's token may not claim the workload prefix", async () => {
    const auth = createAuthenticator({
      issuers: [defaultPersonIssuer({ issuer: github.url, audience: 'people', groupsClaim: 'groups' })],
    });
    await assert.rejects(
      auth.authenticate(`Bearer ${await github.sign({ aud: 'people', sub: 'workload:ai-agent' })}`),
      (err: { reason?: string }) => err.reason === 'invalid_token',
    );
  });
});

describe('what workloads may do', () => {
  test('a role its claims do not allow is refused, and the attempt is on the audit trail', async () => {
    const res = await api.call('POST', '/v1/requests', {
      user: 'ci-deployer',
      body: request('prod-admin', '30m', { ticket: 'INC-1' }),
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 'policy_denied');
    const refused = await eventually('the refusal on the audit trail', async () => {
      const rows = await auditEvents('type=access.refused&requester=workload:ci-deployer');
      return rows.find((r) => r.roleId === 'prod-admin');
    });
    assert.equal(refused.actor, 'workload:ci-deployer');
    assert.equal(refused.data.action, 'request');
    assert.equal(refused.data.code, 'policy_denied');
    assert.equal(refused.data.actorKind, 'workload');
  });

  test('an AI agent reads for 15 minutes with one human approval; workloads never review', async () => {
    const tooLong = await api.call('POST', '/v1/requests', {
      user: 'ai-agent',
      body: request('prod-readonly', '30m'),
    });
    assert.equal(tooLong.status, 403);

    const asked = await api.call('POST', '/v1/requests', {
      user: 'ai-agent',
      body: request('prod-readonly', '10m'),
    });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(asked.body.requiredApprovals, 1);
    const id = asked.body.id as string;

    for (const reviewer of ['ai-agent', 'ci-deployer'] as const) {
      const res = await api.call('POST', `/v1/requests/${id}/approve`, { user: reviewer, body: {} });
      assert.equal(res.status, 403, reviewer);
      assert.equal(res.body.error.code, 'not_eligible', reviewer);
      assert.equal(res.body.error.message, 'workloads never review access');
    }
    const approved = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'active');

    const reviews = (await auditEvents('type=access.refused&requester=workload:ai-agent')).filter(
      (r) => r.data.grant === id,
    );
    assert.equal(reviews.length, 1, 'the agent trying to approve its own request is recorded');
    assert.equal(reviews[0]?.data.action, 'approve');
  });

  test('only a workload acts for a person, only where policy says so; that person cannot approve it', async () => {
    const alice = { sub: 'alice', email: 'alice@example.test' };
    const person = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: request('prod-readonly', '10m', { onBehalfOf: { sub: 'bob' } }),
    });
    assert.equal(person.status, 403);
    assert.match(person.body.error.message, /people ask for themselves/);

    const agent = await api.call('POST', '/v1/requests', {
      user: 'ai-agent',
      body: request('prod-readonly', '10m', { onBehalfOf: alice }),
    });
    assert.equal(agent.status, 403);
    assert.match(agent.body.error.message, /on behalf of someone/);

    const pipeline = await api.call('POST', '/v1/requests', {
      user: 'deploy-runner',
      body: request('prod-deploy', '30m', { onBehalfOf: alice }),
    });
    assert.equal(pipeline.status, 202, JSON.stringify(pipeline.body));
    assert.deepEqual(pipeline.body.onBehalfOf, alice);
    assert.equal(pipeline.body.requester.sub, 'workload:deploy-pipeline');
    const id = pipeline.body.id as string;

    const own = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'alice', body: {} });
    assert.equal(own.status, 404, 'alice is no reviewer of prod-deploy: she does not even see it');
    const selfByWorkflow = await broker.grants
      .send(await import('../common/grant-messages.js').then((m) => m.approveUpdate), {
        grantId: id,
        action: 'approve',
        principal: { sub: 'alice', email: 'alice@example.test', groups: ['reviewers'] },
        verdict: { allowed: true, policyIds: [] },
        args: {},
      })
      .then(
        () => 'accepted',
        (err: { code?: string }) => err.code,
      );
    assert.equal(
      selfByWorkflow,
      'self_approval',
      'the workflow refuses the person it acts for, even as a reviewer',
    );

    const approved = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} });
    assert.equal(approved.body.status, 'active', JSON.stringify(approved.body));
    const summaries = await api.call('GET', `/v1/audit/events?grants=true&grant=${id}&format=csv`, {
      user: 'dave',
    });
    const [header, row] = String(summaries.body).trim().split('\r\n');
    const cells = Object.fromEntries((header ?? '').split(',').map((h, i) => [h, row?.split(',')[i]]));
    assert.equal(cells.requester, 'workload:deploy-pipeline');
    assert.equal(cells.requester_kind, 'workload');
    assert.equal(cells.on_behalf_of, 'alice');
  });

  test('people and workloads are listed apart; only auditors pull the kill switch', async () => {
    const workloads = await api.call('GET', '/v1/requests?requesterKind=workload', { user: 'dave' });
    assert.equal(workloads.status, 200);
    assert.ok(workloads.body.requests.length > 0);
    assert.ok(
      workloads.body.requests.every((g: { requester: { kind?: string } }) => g.requester.kind === 'workload'),
    );

    for (const user of ['alice', 'bob', 'ci-deployer'] as const) {
      const res = await api.call('POST', '/v1/principals/workload:ai-agent/revoke-all', {
        user,
        body: { reason: 'misbehaving' },
      });
      assert.equal(res.status, 403, user);
      assert.equal(res.body.error.code, 'forbidden', user);
    }
    const noReason = await api.call('POST', '/v1/principals/workload:ai-agent/revoke-all', {
      user: 'dave',
      body: {},
    });
    assert.equal(noReason.status, 400);
  });
});

describe('configuration is checked at start-up', () => {
  test('an issuers file problem names the file, the line and the field', () => {
    assert.throws(
      () =>
        parseIssuers(
          `issuers:
  - name: gha
    issuer: https://token.actions.githubusercontent.com
    kind: workload
    claims: { repository: repository }
  - name: agents
    issuer: https://idp.example.test
    audience: jit-agents
    kind: workload
    algorithms: [HS256]
    claims: { clientId: client_id }
`,
          'issuers.yaml',
        ),
      (err: Error) => {
        assert.ok(err instanceof IssuersFileError);
        assert.match(err.message, /^issuers\.yaml:2:\d+: issuer "gha", field audience: /m);
        assert.match(err.message, /^issuers\.yaml:10:\d+: issuer "agents", field algorithms\.0: /m);
        return true;
      },
    );
  });

  test('a catalog mapping one sender role to two workloads is refused, naming both', () => {
    const roles = `roles:
  - id: r
    description: r
    arn: arn:aws:iam::123456789012:role/r
    account: "123456789012"
    maxDuration: 1h
    approvalsRequired: 1
    requesterGroups: [a]
    reviewerGroups: [b]
`;
    assert.throws(
      () =>
        parseCatalog(
          `${roles}workloads:
  - name: one
    description: one
    awsRoles: [arn:aws:iam::123456789012:role/sfn]
  - name: two
    description: two
    awsRoles: [arn:aws:iam::123456789012:role/sfn]
`,
          'catalog.yaml',
        ),
      (err: Error) =>
        err instanceof PolicyLoadError &&
        /workload "two", field awsRoles\.0: also matches workload "one"/.test(err.message),
    );
  });
});
