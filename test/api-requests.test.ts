// The HTTP API on the real stack: happy path, errors and security for each route.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type Caller, startFakeFederation, startTestApi, type TestApi } from './support/api.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';

let broker: TestBroker;
let api: TestApi;
let federation: Awaited<ReturnType<typeof startFakeFederation>>;

before(async () => {
  broker = await startTestBroker({ store: 'postgres' });
  await broker.startWorker();
  federation = await startFakeFederation();
  api = await startTestApi(broker, federation.url);
});
after(async () => {
  await api.close();
  await federation.close();
  await broker.close();
});

const adminRequest = (ticket: string, extra: Record<string, unknown> = {}) => ({
  role: 'prod-admin',
  duration: '1h',
  reason: 'rotate keys',
  ticket,
  ...extra,
});

async function pendingAdminGrant(ticket: string): Promise<string> {
  const res = await api.call('POST', '/v1/requests', { user: 'alice', body: adminRequest(ticket) });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.id;
}

const acceptedUpdates = async (id: string) =>
  ((await broker.client.workflow.getHandle(id).fetchHistory()).events ?? []).filter(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
  ).length;

/** A refused call answers with this status and code, and the grant's history takes no update. */
async function refused(
  id: string,
  status: number,
  code: string,
  call: () => Promise<{ status: number; body: any }>,
): Promise<void> {
  const before = await acceptedUpdates(id);
  const res = await call();
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  assert.equal(await acceptedUpdates(id), before, 'a refused call changes nothing');
}

describe('every response', () => {
  test('carries a request id, also inside errors', async () => {
    const res = await api.call('GET', '/v1/nope', { user: 'alice' });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');
    assert.equal(res.body.error.requestId, res.headers.get('x-request-id'));
  });

  test('the OpenAPI document lists every v1 route', async () => {
    const res = await api.call('GET', '/openapi.json');
    assert.equal(res.status, 200);
    const paths = Object.keys(res.body.paths);
    for (const path of [
      '/v1/roles',
      '/v1/requests',
      '/v1/requests/{id}',
      '/v1/requests/{id}/approve',
      '/v1/requests/{id}/deny',
      '/v1/requests/{id}/cancel',
      '/v1/requests/{id}/revoke',
      '/v1/requests/{id}/extend',
      '/v1/requests/{id}/credentials',
      '/v1/requests/{id}/console',
      '/v1/audit/events',
      '/v1/audit/verify',
    ]) {
      assert.ok(paths.includes(path), `${path} missing from /openapi.json`);
    }
  });

  test('health, readiness and metrics answer without a token', async () => {
    assert.equal((await api.call('GET', '/healthz')).status, 200);
    const ready = await api.call('GET', '/readyz');
    assert.equal(ready.status, 200);
    const metrics = await api.call('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(
      String(metrics.body),
      /jit_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
  });
});

describe('GET /v1/roles', () => {
  test('lists what the caller may request', async () => {
    const alice = await api.call('GET', '/v1/roles', { user: 'alice' });
    assert.deepEqual(alice.body.roles.map((r: { id: string }) => r.id).sort(), [
      'prod-admin',
      'prod-readonly',
    ]);
    const erin = await api.call('GET', '/v1/roles', { user: 'erin' });
    assert.ok(erin.body.roles.some((r: { id: string }) => r.id === 'breakglass-admin'));
    const dave = await api.call('GET', '/v1/roles', { user: 'dave' });
    assert.deepEqual(dave.body.roles, []);
  });

  test('needs a token', async () => {
    const res = await api.call('GET', '/v1/roles');
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'unauthenticated');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  });
});

describe('POST /v1/requests', () => {
  test('an auto-approved request answers 201 active; one needing approval 202 pending', async () => {
    const ro = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: { role: 'prod-readonly', duration: '30m', reason: 'read logs' },
    });
    assert.equal(ro.status, 201, JSON.stringify(ro.body));
    assert.equal(ro.body.status, 'active');
    assert.match(ro.body.id, /^grant-[0-9A-Z]{26}$/);
    assert.equal(ro.body.duration, 1800);

    const admin = await api.call('POST', '/v1/requests', { user: 'alice', body: adminRequest('INC-100') });
    assert.equal(admin.status, 202);
    assert.equal(admin.body.status, 'pending');
    assert.equal(admin.body.requiredApprovals, 2);
  });

  test('durations: "90m", "PT1H30M" and seconds all work', async () => {
    for (const duration of ['90m', 'PT1H30M', 5400]) {
      const res = await api.call('POST', '/v1/requests', {
        user: 'alice',
        body: adminRequest('INC-101', { duration }),
      });
      assert.equal(res.body.duration, 5400, `${duration}`);
    }
  });

  test('Idempotency-Key: same body gives the same grant, another body 409', async () => {
    const headers = { 'idempotency-key': `k-${Date.now()}` };
    const first = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: adminRequest('INC-102'),
      headers,
    });
    const again = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: adminRequest('INC-102'),
      headers,
    });
    assert.equal(first.status, 202);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const other = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: adminRequest('INC-103'),
      headers,
    });
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'idempotency_conflict');
    // Still the same grant once it has ended.
    await api.call('POST', `/v1/requests/${first.body.id}/cancel`, { user: 'alice' });
    const late = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: adminRequest('INC-102'),
      headers,
    });
    assert.equal(late.status, 200);
    assert.equal(late.body.id, first.body.id);
    assert.equal(late.body.status, 'cancelled');
    // The key is the caller's own: bob's same key starts nothing of alice's.
    const bob = await api.call('POST', '/v1/requests', {
      user: 'bob',
      body: adminRequest('INC-102'),
      headers,
    });
    assert.equal(bob.status, 403);
  });

  test('bad input gets a 4xx with a code and starts nothing', async () => {
    const cases: [unknown, number, string][] = [
      [{ role: 'prod-admin', duration: '1h', ticket: 'INC-1' }, 400, 'validation_failed'],
      [{ role: 'prod-admin', duration: 'forever', reason: 'x', ticket: 'INC-1' }, 400, 'validation_failed'],
      [{ role: 'prod-admin', duration: -5, reason: 'x', ticket: 'INC-1' }, 400, 'validation_failed'],
      [
        { role: 'prod-admin', duration: '1h', reason: 'x'.repeat(501), ticket: 'INC-1' },
        400,
        'validation_failed',
      ],
      [
        { role: 'prod-admin', duration: '1h', reason: 'x', ticket: 'INC-1', extra: true },
        400,
        'validation_failed',
      ],
      [{ role: 'prod-admin', duration: '1h', reason: 42, ticket: 'INC-1' }, 400, 'validation_failed'],
      [{ role: 'no-such-role', duration: '1h', reason: 'x' }, 400, 'unknown_role'],
      [{ role: 'prod-admin', duration: '1h', reason: 'x' }, 403, 'policy_denied'],
      [{ role: 'prod-admin', duration: '1h', reason: 'x', ticket: 'not a ticket' }, 403, 'policy_denied'],
      [{ role: 'prod-admin', duration: '5h', reason: 'x', ticket: 'INC-1' }, 403, 'policy_denied'],
      [{ role: 'breakglass-admin', duration: '1h', reason: 'x' }, 403, 'policy_denied'],
      [[1, 2], 400, 'validation_failed'],
    ];
    const count = async () => (await broker.client.workflow.count(`TaskQueue = '${broker.taskQueue}'`)).count;
    const before = await count();
    for (const [body, status, code] of cases) {
      const res = await api.call('POST', '/v1/requests', { user: 'alice', body });
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code, JSON.stringify(body));
    }
    const malformed = await api.call('POST', '/v1/requests', {
      user: 'alice',
      rawBody: '{"role":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'bad_request');
    const huge = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: { role: 'prod-admin', duration: '1h', reason: 'x'.repeat(70_000), ticket: 'INC-1' },
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');
    assert.equal(await count(), before, 'refused requests start no workflow');
  });
});

describe('GET /v1/requests and /v1/requests/{id}', () => {
  test('the requester, eligible reviewers and auditors see a grant; anyone else gets 404', async () => {
    const id = await pendingAdminGrant('INC-110');
    for (const user of ['alice', 'bob', 'dave'] as const) {
      const res = await api.call('GET', `/v1/requests/${id}`, { user });
      assert.equal(res.status, 200, user);
      assert.equal(res.body.id, id);
    }
    const erin = await api.call('GET', `/v1/requests/${id}`, { user: 'erin' });
    assert.equal(erin.status, 404);
    assert.equal(erin.body.error.code, 'not_found');
    assert.equal(
      (await api.call('GET', '/v1/requests/grant-00000000000000000000000000', { user: 'dave' })).status,
      404,
    );
    assert.equal((await api.call('GET', '/v1/requests/..%2Fetc', { user: 'dave' })).status, 404);
  });

  test('lists own grants; reviewers and auditors see more; filters by status', async () => {
    const id = await pendingAdminGrant('INC-111');
    await eventually('listed', async () => {
      const alice = await api.call('GET', '/v1/requests?status=pending', { user: 'alice' });
      return alice.body.requests.some((r: { id: string }) => r.id === id) ? true : undefined;
    });
    const bob = await api.call('GET', '/v1/requests?status=pending&role=prod-admin', { user: 'bob' });
    assert.ok(bob.body.requests.some((r: { id: string }) => r.id === id));
    const erin = await api.call('GET', '/v1/requests', { user: 'erin' });
    assert.ok(erin.body.requests.every((r: { requester: string }) => r.requester === 'erin'));
    const bad = await api.call('GET', '/v1/requests?status=bogus', { user: 'alice' });
    assert.equal(bad.status, 400);
  });
});

describe('decisions', () => {
  test('two reviewers approve; self-approval, double approval and non-reviewers are refused and change nothing', async () => {
    const id = await pendingAdminGrant('INC-120');
    await refused(id, 403, 'self_approval', () =>
      api.call('POST', `/v1/requests/${id}/approve`, { user: 'alice', body: {} }),
    );
    await refused(id, 404, 'not_found', () =>
      api.call('POST', `/v1/requests/${id}/approve`, { user: 'erin', body: {} }),
    );
    await refused(id, 403, 'not_eligible', () =>
      api.call('POST', `/v1/requests/${id}/approve`, { user: 'dave', body: {} }),
    );
    const one = await api.call('POST', `/v1/requests/${id}/approve`, {
      user: 'bob',
      body: { comment: 'ok' },
    });
    assert.equal(one.status, 200);
    assert.equal(one.body.approvals.length, 1);
    await refused(id, 409, 'already_approved', () =>
      api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} }),
    );
    const two = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'carol' });
    assert.equal(two.body.status, 'active');
  });

  test('a retried approval with the same Idempotency-Key counts once', async () => {
    const id = await pendingAdminGrant('INC-121');
    const headers = { 'idempotency-key': 'slack-action-1' };
    const a = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {}, headers });
    const b = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {}, headers });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.body.approvals.length, 1);
  });

  test('deny needs a reason; cancel only by the requester; revoke per policy', async () => {
    const id = await pendingAdminGrant('INC-122');
    const noReason = await api.call('POST', `/v1/requests/${id}/deny`, { user: 'bob', body: {} });
    assert.equal(noReason.status, 400);
    await refused(id, 403, 'not_requester', () =>
      api.call('POST', `/v1/requests/${id}/cancel`, { user: 'bob' }),
    );
    await refused(id, 409, 'grant_not_active', () =>
      api.call('POST', `/v1/requests/${id}/revoke`, { user: 'bob', body: { reason: 'x' } }),
    );
    const cancelled = await api.call('POST', `/v1/requests/${id}/cancel`, { user: 'alice' });
    assert.equal(cancelled.body.status, 'cancelled');
    const late = await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, 'already_decided');

    const ro = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: { role: 'prod-readonly', duration: '30m', reason: 'r' },
    });
    await refused(ro.body.id, 403, 'not_eligible', () =>
      api.call('POST', `/v1/requests/${ro.body.id}/revoke`, { user: 'dave', body: { reason: 'x' } }),
    );
    const revoked = await api.call('POST', `/v1/requests/${ro.body.id}/revoke`, {
      user: 'alice',
      body: { reason: 'done' },
    });
    assert.equal(revoked.body.status, 'revoked');
  });

  test('extend within the cap; past it 409', async () => {
    const ro = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: { role: 'prod-readonly', duration: '10m', reason: 'r' },
    });
    const ok = await api.call('POST', `/v1/requests/${ro.body.id}/extend`, {
      user: 'alice',
      body: { duration: '10m', reason: 'more' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.duration, 1200);
    const cap = await api.call('POST', `/v1/requests/${ro.body.id}/extend`, {
      user: 'alice',
      body: { duration: '2h', reason: 'more' },
    });
    assert.equal(cap.status, 409);
    assert.equal(cap.body.error.code, 'extension_exceeds_cap');
  });
});

describe('POST /v1/requests/{id}/credentials', () => {
  test('only the requester of an active grant gets credential_process JSON', async () => {
    const id = await pendingAdminGrant('INC-130');
    await refused(id, 409, 'grant_not_active', () =>
      api.call('POST', `/v1/requests/${id}/credentials`, { user: 'alice' }),
    );
    await api.call('POST', `/v1/requests/${id}/approve`, { user: 'bob', body: {} });
    await api.call('POST', `/v1/requests/${id}/approve`, { user: 'carol', body: {} });
    await refused(id, 403, 'not_requester', () =>
      api.call('POST', `/v1/requests/${id}/credentials`, { user: 'bob' }),
    );
    const res = await api.call('POST', `/v1/requests/${id}/credentials`, { user: 'alice' });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), [
      'AccessKeyId',
      'Expiration',
      'SecretAccessKey',
      'SessionToken',
      'Version',
    ]);
    assert.equal(res.body.Version, 1);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });
});

describe('POST /v1/requests/{id}/console', () => {
  test('the requester gets a federation sign-in URL built from fresh session credentials', async () => {
    const ro = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: { role: 'prod-readonly', duration: '30m', reason: 'console' },
    });
    const res = await api.call('POST', `/v1/requests/${ro.body.id}/console`, { user: 'alice' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const url = new URL(res.body.url);
    assert.equal(url.searchParams.get('Action'), 'login');
    assert.equal(url.searchParams.get('SigninToken'), 'fake-signin-token');
    assert.equal(url.searchParams.get('Destination'), 'https://console.aws.amazon.com/');
    assert.ok(Date.parse(res.body.expiresAt) <= Date.parse(ro.body.expiresAt));
    const session = federation.sessions.at(-1) as { sessionId: string };
    assert.match(session.sessionId, /^ASIA/);
    const view = await api.call('GET', `/v1/requests/${ro.body.id}`, { user: 'alice' });
    assert.equal(view.body.sessions.at(-1).accessKeyId, session.sessionId);

    const other = await api.call('POST', `/v1/requests/${ro.body.id}/console`, { user: 'bob' });
    assert.equal(other.status, 403);
    assert.equal(other.body.error.code, 'not_requester');
  });
});

describe('audit routes', () => {
  test('auditors export and verify; others get 403', async () => {
    const denied = await api.call('GET', '/v1/audit/verify', { user: 'alice' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'forbidden');
    const verify = await api.call('GET', '/v1/audit/verify', { user: 'dave' });
    assert.equal(verify.status, 200);
    assert.equal(verify.body.ok, true);
    const csv = await api.call('GET', '/v1/audit/events?format=csv', { user: 'dave' });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(String(csv.body).split('\r\n')[0] ?? '', /^position,event_id,/);
    const bad = await api.call('GET', '/v1/audit/events?from=yesterday', { user: 'dave' });
    assert.equal(bad.status, 400);
  });
});

type OpenApiOperation = {
  responses?: Record<
    string,
    { content?: Record<string, { schema?: { properties?: { error?: { properties?: object } } } }> }
  >;
};

/** The grant as the read model shows it. */
async function readView(id: string) {
  const view = await broker.store.grants.get(id);
  assert.ok(view, `${id} is in the read model`);
  return view;
}

// Regression tests for what fuzzing found (issue 13): each of these once answered 500, hung for
// 20 s, stored control characters, or answered outside the API's error shape.
describe('what fuzzing found', () => {
  const unsafe: [string, string][] = [
    ['NUL', 'a\u0000b'],
    ['a lone surrogate', 'x\ud800y'],
    ['a terminal escape', 'ok \u001b[32mAPPROVED'],
    ['BEL', 'ring \u0007'],
    ['a bidi override', 'a\u202eb'],
  ];

  test('every text field refuses control characters and unpaired surrogates with 400 validation_failed', async () => {
    const id = await pendingAdminGrant('INC-140');
    const ro = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: { role: 'prod-readonly', duration: '30m', reason: 'fields' },
    });
    const count = async () => (await broker.client.workflow.count(`TaskQueue = '${broker.taskQueue}'`)).count;
    const started = await count();
    for (const [what, text] of unsafe) {
      const calls: [string, string, Caller, unknown][] = [
        ['POST', '/v1/requests', 'alice', adminRequest('INC-1', { reason: text })],
        ['POST', '/v1/requests', 'alice', adminRequest(text)],
        ['POST', '/v1/requests', 'ci-deployer', { ...adminRequest('INC-1'), onBehalfOf: { sub: text } }],
        ['POST', `/v1/requests/${id}/approve`, 'bob', { comment: text }],
        ['POST', `/v1/requests/${id}/deny`, 'bob', { reason: text }],
        ['POST', `/v1/requests/${ro.body.id}/revoke`, 'alice', { reason: text }],
        ['POST', `/v1/requests/${ro.body.id}/extend`, 'alice', { duration: '5m', reason: text }],
        ['POST', `/v1/requests/${ro.body.id}/review`, 'bob', { outcome: 'flagged', comment: text }],
      ];
      for (const [method, path, user, body] of calls) {
        const res = await api.call(method, path, { user, body });
        assert.equal(
          res.status,
          400,
          `${what} in ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`,
        );
        assert.equal(res.body.error.code, 'validation_failed');
      }
    }
    assert.equal(await count(), started, 'nothing started');
    assert.equal((await readView(id)).approvals.length, 0, 'nothing approved');
    const view = await readView(ro.body.id);
    assert.equal(view.status, 'active');
    assert.equal(view.duration, 1800, 'nothing extended');
  });

  test('list filters refuse NUL and control characters at once, not after 20 s of retries', async () => {
    for (const query of ['role=%00', 'role=a%00b', 'requester=%00', 'requester=a%1B%5B31m', 'status=%00']) {
      const started = Date.now();
      const res = await api.call('GET', `/v1/requests?${query}`, { user: 'dave' });
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'validation_failed');
      assert.ok(Date.now() - started < 2000, `${query} answered in ${Date.now() - started} ms`);
    }
  });

  test('a path id with NUL, or too long to be an id, is a 4xx in the API shape, never 414 or 500', async () => {
    for (const path of [
      '/v1/requests/%00',
      '/v1/requests/grant-%00/approve',
      `/v1/requests/${'x'.repeat(65)}`,
      `/v1/requests/${'x'.repeat(300)}`,
      `/v1/requests/${'x'.repeat(5000)}/credentials`,
      `/v1/principals/${'x'.repeat(5000)}/revoke-all`,
    ]) {
      const method =
        path.endsWith('/approve') || path.endsWith('/credentials') || path.endsWith('-all') ? 'POST' : 'GET';
      const res = await api.call(method, path, { user: 'dave', ...(method === 'POST' ? { body: {} } : {}) });
      assert.ok([400, 404].includes(res.status), `${method} ${path.slice(0, 40)}: ${res.status}`);
      assert.equal(typeof res.body.error?.code, 'string', JSON.stringify(res.body));
      assert.equal(res.body.error.requestId, res.headers.get('x-request-id'));
    }
    const long = await api.call('GET', `/v1/requests/${'x'.repeat(300)}`, { user: 'dave' });
    assert.equal(long.status, 404);
    assert.equal(long.body.error.code, 'not_found');
  });

  test('a method a path does not take is 405 naming the ones it does, in the API shape', async () => {
    for (const [method, path, allow] of [
      ['TRACE', '/v1/roles', 'GET, HEAD'],
      ['DELETE', '/v1/requests/grant-01J00000000000000000000000', 'GET, HEAD'],
      ['QUERY', '/v1/requests/grant-01J00000000000000000000000', 'GET, HEAD'],
      ['GET', '/v1/requests/grant-01J00000000000000000000000/approve', 'POST'],
    ] as const) {
      // node:http, not fetch: fetch refuses to send TRACE at all.
      const token = await api.token('dave');
      const res = await new Promise<{ status?: number; allow?: string; body: string }>((resolve, reject) => {
        const req = httpRequest(
          `${api.url}${path}`,
          { method, headers: { authorization: `Bearer ${token}` } },
          (r) => {
            let body = '';
            r.on('data', (chunk: Buffer) => {
              body += chunk.toString();
            });
            r.on('end', () => resolve({ status: r.statusCode, allow: r.headers.allow, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.allow, allow);
      assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'method_not_allowed');
    }
    // A path nobody serves stays a 404.
    assert.equal((await api.call('GET', '/v1/nothing', { user: 'dave' })).status, 404);
  });

  test('the OpenAPI document declares every error status of every route, with the error shape', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body;
    const operations = Object.entries(doc.paths as Record<string, Record<string, OpenApiOperation>>).flatMap(
      ([path, item]) => Object.entries(item).map(([method, op]) => ({ where: `${method} ${path}`, op })),
    );
    assert.ok(operations.length >= 15, `${operations.length} operations`);
    for (const { where, op } of operations) {
      for (const status of ['400', '401', '403', '404', '409', '413', '415', '429', '500', '502', '503']) {
        const schema = op.responses?.[status]?.content?.['application/json']?.schema;
        assert.ok(schema, `${where} does not declare ${status}`);
        assert.deepEqual(
          Object.keys(schema.properties?.error?.properties ?? {}).sort(),
          ['code', 'message', 'requestId'],
          `${where} ${status}`,
        );
      }
    }
  });

  test('credentials asked twice with one Idempotency-Key are one STS session', async () => {
    const ro = await api.call('POST', '/v1/requests', {
      user: 'alice',
      body: { role: 'prod-readonly', duration: '30m', reason: 'creds twice' },
    });
    const headers = { 'idempotency-key': `creds-${Date.now()}` };
    const first = await api.call('POST', `/v1/requests/${ro.body.id}/credentials`, {
      user: 'alice',
      headers,
    });
    const again = await api.call('POST', `/v1/requests/${ro.body.id}/credentials`, {
      user: 'alice',
      headers,
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.AccessKeyId, first.body.AccessKeyId);
    const view = await readView(ro.body.id);
    assert.deepEqual(
      view.sessions.map((s) => s.accessKeyId),
      [first.body.AccessKeyId],
      'one session issued and recorded',
    );
    // Another key is another session.
    const other = await api.call('POST', `/v1/requests/${ro.body.id}/credentials`, {
      user: 'alice',
      headers: { 'idempotency-key': `${headers['idempotency-key']}-2` },
    });
    assert.notEqual(other.body.AccessKeyId, first.body.AccessKeyId);
  });
});
