// The web console's counterparts of the API's security tests (auth, visibility, bad input), plus
// what a cookie session adds: CSRF, other origins, session storage, expiry, sign-out, replicas.
// Plain HTTP with a cookie jar; test/console-browser.test.ts drives a real browser.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SessionSealer } from '../api/console/session.js';
import { reviewWorkflowId } from '../common/review-messages.js';
import { parsePayloadKeys } from '../platform/payload-codec.js';
import { rawConnectionForTests } from '../store/index.js';
import { startFakeFederation, startTestApi, type TestApi, testConsoleKeys } from './support/api.js';
import { eventually } from './support/assertions.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { ConsoleClient, mainText, parseForms } from './support/console.js';

let broker: TestBroker;
let api: TestApi;
let federation: Awaited<ReturnType<typeof startFakeFederation>>;

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  federation = await startFakeFederation();
  api = await startTestApi(broker, federation.url, { console: {} });
});
after(async () => {
  await api?.close();
  await federation?.close();
  await broker?.close();
});

const signedIn = async (user: 'alice' | 'bob' | 'carol' | 'dave' | 'erin') => {
  const client = new ConsoleClient(api.url);
  const page = await client.signIn(user);
  assert.equal(
    page.status,
    200,
    `${user} lands on a page after sign-in: ${mainText(page.html).slice(0, 200)}`,
  );
  return client;
};

const acceptedUpdates = async (id: string) =>
  ((await broker.client.workflow.getHandle(id).fetchHistory()).events ?? []).filter(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
  ).length;

const sessionRows = () =>
  rawConnectionForTests(broker.store).db.selectFrom('console_sessions').selectAll().execute();

async function pendingAdminGrant(): Promise<string> {
  const grant = await broker.request('alice', 'prod-admin', { durationSeconds: 3600, ticket: 'INC-7' });
  return grant.workflowId;
}

describe('sign-in', () => {
  test('runs the code flow with PKCE through the dev issuer; the cookie is HttpOnly and SameSite', async () => {
    const client = new ConsoleClient(api.url);
    const start = await client.get('/auth/login?returnTo=%2Fgrants');
    assert.equal(start.status, 303);
    const authorize = new URL(start.location ?? '');
    assert.equal(authorize.origin, new URL(process.env.JIT_TEST_OIDC_ISSUER ?? '').origin);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
    assert.equal(authorize.searchParams.get('redirect_uri'), `${api.url}/auth/callback`);
    assert.ok(authorize.searchParams.get('state') && authorize.searchParams.get('nonce'));

    const landed = await client.signIn('alice');
    assert.equal(landed.status, 200);
    assert.match(mainText(landed.html), /My grants/);
    assert.match(landed.html, /Alice Engineer/);
    const cookie = client.setCookies.filter((c) => c.startsWith('jit_console=')).at(-1) ?? '';
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.match(cookie, /Path=\//);
    assert.match(cookie, /Expires=/i, 'the cookie ends with the session');
  });

  test('the session is kept server-side, encrypted, under a hash of its id; the browser gets an id only', async () => {
    const client = await signedIn('alice');
    const cookie = client.sessionCookie();
    assert.ok(cookie);
    const sessionId = decodeURIComponent(cookie.value).split('.')[0] ?? '';
    assert.ok(!cookie.value.includes('eyJ'), 'no token in the cookie');
    const rows = await sessionRows();
    assert.ok(rows.length > 0);
    assert.ok(
      rows.every((r) => r.id !== sessionId && /^[0-9a-f]{64}$/.test(r.id)),
      'rows are keyed by a hash',
    );
    for (const row of rows) {
      assert.match(row.data, /^v1\.test-console\./);
      assert.ok(!row.data.includes('eyJ') && !row.data.includes('alice'), 'nothing readable at rest');
    }
    // With the key, the row holds the tokens, bound to its session id.
    const sealer = new SessionSealer(parsePayloadKeys(testConsoleKeys));
    const opened = rows.map((r) => sealer.open(sessionId, r.data)).find(Boolean);
    assert.ok(opened, 'one row opens with this session id');
    const data = JSON.parse(opened);
    assert.equal(data.user.sub, 'alice');
    assert.match(data.user.accessToken, /^eyJ/);
    assert.ok(data.user.refreshToken);
    for (const other of rows) {
      if (sealer.open(sessionId, other.data)) continue;
      assert.equal(sealer.open(`${sessionId}x`, other.data), undefined, 'a row opens for its own id only');
    }
  });

  test('a wrong password stays at the issuer; no session is made', async () => {
    const client = new ConsoleClient(api.url);
    const page = await client.signIn('alice', 'not-her-password');
    assert.equal(page.status, 401);
    assert.match(page.html, /Unknown user or wrong password/);
    assert.equal((await client.get('/grants')).status, 303);
  });

  test('a callback without a sign-in in progress, or with an error from the issuer, signs no one in', async () => {
    const client = new ConsoleClient(api.url);
    const stray = await client.get('/auth/callback?code=abc&state=xyz');
    assert.equal(stray.status, 400);
    assert.match(mainText(stray.html), /expired or was started in another browser/);
    await client.get('/auth/login');
    const refused = await client.get('/auth/callback?error=access_denied&error_description=no');
    assert.equal(refused.status, 401);
    assert.match(mainText(refused.html), /access_denied/);
    assert.equal((await client.get('/grants')).status, 303);
  });
});

describe('authentication', () => {
  test('pages send a browser to sign in; the live stream and forms without a session are refused', async () => {
    const client = new ConsoleClient(api.url);
    const page = await client.get('/grants?show=active');
    assert.equal(page.status, 303);
    assert.equal(page.location, `${api.url}/auth/login?returnTo=%2Fgrants%3Fshow%3Dactive`);
    const live = await client.get('/live', { accept: 'text/event-stream' });
    assert.equal(live.status, 401);
    const post = await client.request('POST', '/request', { form: { role: 'prod-readonly' } });
    assert.equal(post.status, 401);
    assert.match(mainText(post.html), /Please sign in/);
    const home = await client.get('/');
    assert.equal(home.status, 200);
    assert.match(mainText(home.html), /Sign in/);
  });

  test('a forged, tampered or foreign cookie is no session', async () => {
    const alice = await signedIn('alice');
    const cookie = alice.sessionCookie();
    assert.ok(cookie);
    for (const value of [
      `${cookie.value.slice(0, -2)}xx`, // signature broken
      'forged.c2lnbmF0dXJl', // not ours
      encodeURIComponent('s:made-up-session-id-0123456789.abc'),
    ]) {
      const client = new ConsoleClient(api.url);
      client.cookies.push({ name: 'jit_console', value, path: '/' });
      const page = await client.get('/grants');
      assert.equal(page.status, 303, `cookie ${value.slice(0, 12)}... is refused`);
      assert.match(page.location ?? '', /\/auth\/login/);
    }
  });

  test('a session ends with its tokens: an expired access token is refreshed; a refused refresh signs out', async () => {
    const alice = await signedIn('alice');
    const sessionId = decodeURIComponent(alice.sessionCookie()?.value ?? '').split('.')[0] ?? '';
    const sealer = new SessionSealer(parsePayloadKeys(testConsoleKeys));
    const db = rawConnectionForTests(broker.store).db;
    const { createHash } = await import('node:crypto');
    const id = createHash('sha256').update(sessionId).digest('hex');
    const rewrite = async (change: (user: Record<string, unknown>) => void) => {
      const row = await db
        .selectFrom('console_sessions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const data = JSON.parse(sealer.open(sessionId, row.data) ?? '{}');
      change(data.user);
      await db
        .updateTable('console_sessions')
        .set({ data: sealer.seal(sessionId, JSON.stringify(data)) })
        .where('id', '=', id)
        .execute();
      return data.user;
    };
    const old = await rewrite((user) => {
      user.accessTokenExpiresAt = Date.now() - 1000;
    });
    const page = await alice.get('/grants');
    assert.equal(page.status, 200, 'refreshed, still signed in');
    const row = await db
      .selectFrom('console_sessions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const now = JSON.parse(sealer.open(sessionId, row.data) ?? '{}').user;
    assert.notEqual(now.accessToken, old.accessToken, 'a new access token');
    assert.ok(now.accessTokenExpiresAt > Date.now());

    await rewrite((user) => {
      user.accessTokenExpiresAt = Date.now() - 1000;
      user.refreshToken = 'not-a-refresh-token';
    });
    const out = await alice.get('/grants');
    assert.equal(out.status, 303);
    assert.match(out.location ?? '', /\/auth\/login/);
    assert.equal(
      await db.selectFrom('console_sessions').select('id').where('id', '=', id).executeTakeFirst(),
      undefined,
    );
  });

  test('sign-out deletes the session and goes on to the issuer; the old cookie is no session', async () => {
    const alice = await signedIn('alice');
    const stolen = { ...(alice.sessionCookie() ?? { name: '', value: '', path: '/' }) };
    const page = await alice.get('/grants');
    const before = (await sessionRows()).length;
    const out = await alice.submit(page.html, '/auth/logout');
    assert.equal(out.status, 303);
    const end = new URL(out.location ?? '');
    assert.equal(end.pathname, '/session/end');
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${api.url}/signed-out`);
    assert.ok(end.searchParams.get('id_token_hint'));
    assert.equal((await sessionRows()).length, before - 1);
    assert.equal((await alice.get('/grants')).status, 303);
    const replay = new ConsoleClient(api.url);
    replay.cookies.push(stolen);
    assert.equal((await replay.get('/grants')).status, 303, 'the old cookie signs no one in');
    const signedOut = await alice.get('/signed-out');
    assert.match(mainText(signedOut.html), /You are signed out/);
  });

  test('sessions work across API replicas sharing the database', async () => {
    const replica = await startTestApi(broker, federation.url, { console: { publicUrl: `${api.url}/` } });
    try {
      const alice = await signedIn('alice');
      const there = new ConsoleClient(replica.url);
      there.cookies = alice.cookies;
      const page = await there.get('/grants');
      assert.equal(page.status, 200);
      assert.match(page.html, /Alice Engineer/);
      const form = await there.get('/request');
      const sent = await there.submit(
        form.html,
        '/request',
        { role: 'prod-readonly', duration: '15m', reason: 'replica check' },
        { origin: new URL(api.url).origin },
      );
      assert.equal(sent.status, 303, mainText(sent.html));
      assert.match(sent.location ?? '', /\/grants\/grant-/);
    } finally {
      await replica.close();
    }
  });
});

describe('every page', () => {
  test('carries a strict CSP and no-store, and links only local assets', async () => {
    const alice = await signedIn('alice');
    for (const path of ['/grants', '/request', '/signed-out']) {
      const page = await alice.get(path);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /style-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      assert.doesNotMatch(page.html, /<script(?![^>]*\bsrc="\/assets\/)/, 'no inline script');
      assert.doesNotMatch(page.html, /\sstyle="|<style/, 'no inline style');
      assert.doesNotMatch(page.html, /(src|href)="(https?:)?\/\//, 'nothing from another host');
    }
    const css = await alice.get('/assets/console.css');
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  });

  test('an unknown path is a page for browsers and the error shape for API clients', async () => {
    const browser = await new ConsoleClient(api.url).get('/no-such-page');
    assert.equal(browser.status, 404);
    assert.match(mainText(browser.html), /Not found/);
    const client = await api.call('GET', '/no-such-page');
    assert.equal(client.status, 404);
    assert.equal(client.body.error.code, 'not_found');
    const v1 = await api.call('GET', '/v1/nope', { headers: { accept: 'text/html' } });
    assert.equal(v1.body.error.code, 'not_found');
  });
});

describe('visibility, route by route as in the API', () => {
  test('the requester, eligible reviewers and auditors see a grant; anyone else gets 404', async () => {
    const id = await pendingAdminGrant();
    const [alice, bob, dave, erin] = await Promise.all([
      signedIn('alice'),
      signedIn('bob'),
      signedIn('dave'),
      signedIn('erin'),
    ]);
    const erinSees = await erin.get(`/grants/${id}`);
    assert.equal(erinSees.status, 404);
    assert.doesNotMatch(erinSees.html, /INC-7/);
    const aliceSees = await alice.get(`/grants/${id}`);
    assert.equal(aliceSees.status, 200);
    assert.ok(
      !parseForms(aliceSees.html).some((f) => f.action.endsWith('/approve')),
      'no self-review offered',
    );
    assert.ok(parseForms(aliceSees.html).some((f) => f.action.endsWith('/cancel')));
    const bobSees = await bob.get(`/grants/${id}`);
    assert.ok(parseForms(bobSees.html).some((f) => f.action.endsWith('/approve')));
    const daveSees = await dave.get(`/grants/${id}`);
    assert.equal(daveSees.status, 200);
    assert.match(mainText(daveSees.html), /Audit trail .* grant\.requested/);
    assert.ok(
      !parseForms(daveSees.html).some((f) => /approve|cancel|revoke/.test(f.action)),
      'auditors only read',
    );
    assert.equal((await erin.get(`/live?grant=${id}`, { accept: 'text/event-stream' })).status, 404);
  });

  test('the queue is for reviewers, the audit pages for auditors; the navigation shows only what one may use', async () => {
    const [alice, bob, dave] = await Promise.all([signedIn('alice'), signedIn('bob'), signedIn('dave')]);
    for (const path of ['/reviews']) {
      assert.equal((await alice.get(path)).status, 403);
      assert.equal((await dave.get(path)).status, 403);
      assert.equal((await bob.get(path)).status, 200);
    }
    for (const path of [
      '/audit',
      '/audit/events',
      '/audit/verify?run=1',
      '/audit/grants.csv',
      '/audit/events.jsonl',
    ]) {
      assert.equal((await alice.get(path)).status, 403, `alice ${path}`);
      assert.equal((await bob.get(path)).status, 403, `bob ${path}`);
      assert.equal((await dave.get(path)).status, 200, `dave ${path}`);
    }
    const nav = (html: string) =>
      [...(/<nav aria-label="Main">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '').matchAll(/href="([^"]+)"/g)].map(
        (m) => m[1],
      );
    assert.deepEqual(nav((await alice.get('/grants')).html), ['/grants', '/request']);
    assert.deepEqual(nav((await bob.get('/grants')).html), ['/grants', '/reviews']);
    assert.deepEqual(nav((await dave.get('/grants')).html), ['/grants', '/audit']);
  });

  test('self-review, forced, is refused; a second approval by the same reviewer is refused; neither changes anything', async () => {
    const id = await pendingAdminGrant();
    const [alice, bob] = await Promise.all([signedIn('alice'), signedIn('bob')]);
    const bobPage = await bob.get(`/grants/${id}`);
    // alice forges the review form bob was shown, with her own session's token.
    const alicePage = await alice.get(`/grants/${id}`);
    const aliceToken = parseForms(alicePage.html)[0]?.fields.get('_csrf') ?? '';
    const before = await acceptedUpdates(id);
    const forced = await alice.submit(bobPage.html, '/approve', { _csrf: aliceToken });
    assert.equal(forced.status, 403);
    assert.match(mainText(forced.html), /cannot review your own request/);
    assert.equal(await acceptedUpdates(id), before);

    const first = await bob.submit(bobPage.html, '/approve', { comment: 'ok' });
    assert.equal(first.status, 303);
    const again = await bob.submit(
      bobPage.html.replaceAll(/name="key" value="[^"]+"/g, 'name="key" value="another-form-key-1"'),
      '/approve',
    );
    assert.equal(again.status, 409);
    assert.match(mainText(again.html), /already approved/);
    assert.equal((await broker.store.grants.get(id))?.approvals.length, 1);
  });
});

describe('forms', () => {
  test('a missing or forged CSRF token is refused with 403 and changes nothing', async () => {
    const id = await pendingAdminGrant();
    const bob = await signedIn('bob');
    const page = await bob.get(`/grants/${id}`);
    const before = await acceptedUpdates(id);
    const forged = await bob.submit(page.html, '/approve', { _csrf: 'forged-token-value' });
    assert.equal(forged.status, 403);
    assert.match(mainText(forged.html), /did not come from this console session/);
    const form = parseForms(page.html).find((f) => f.action.endsWith('/approve'));
    assert.ok(form);
    form.fields.delete('_csrf');
    const missing = await bob.request('POST', form.action, { form: Object.fromEntries(form.fields) });
    assert.equal(missing.status, 403);
    // A token from another session is forged too.
    const carol = await signedIn('carol');
    const carolToken = parseForms((await carol.get(`/grants/${id}`)).html)[0]?.fields.get('_csrf') ?? '';
    assert.equal((await bob.submit(page.html, '/approve', { _csrf: carolToken })).status, 403);
    assert.equal(await acceptedUpdates(id), before);
    assert.equal((await bob.submit(page.html, '/approve')).status, 303, 'the real token works');
  });

  test('a request from another origin is refused even with the session cookie and a valid token', async () => {
    const id = await pendingAdminGrant();
    const bob = await signedIn('bob');
    const page = await bob.get(`/grants/${id}`);
    const before = await acceptedUpdates(id);
    const evil = await bob.submit(page.html, '/approve', {}, { origin: 'http://evil.example' });
    assert.equal(evil.status, 403);
    assert.match(evil.html, /another site/);
    const crossSite = await bob.submit(
      page.html,
      '/approve',
      {},
      { origin: undefined, 'sec-fetch-site': 'cross-site' },
    );
    assert.equal(crossSite.status, 403);
    // The cookie copied into another client and sent from another origin: the same refusal.
    const thief = new ConsoleClient('http://127.0.0.1:1');
    thief.cookies = [...bob.cookies];
    const replayed = await thief.request('POST', `${api.url}/grants/${id}/approve`, {
      form: Object.fromEntries(
        parseForms(page.html).find((f) => f.action.endsWith('/approve'))?.fields ?? [],
      ),
      headers: { origin: 'http://127.0.0.1:1' },
    });
    assert.equal(replayed.status, 403);
    assert.equal(await acceptedUpdates(id), before);
  });

  test('bad input is a 400 page naming the field, and starts nothing', async () => {
    const alice = await signedIn('alice');
    const page = await alice.get('/request');
    const grantsBefore = (await broker.store.grants.list({ visibleTo: 'all' }, 500)).items.length;
    const cases: [Record<string, string>, RegExp][] = [
      [{ role: 'prod-readonly', duration: 'forever', reason: 'x' }, /invalid duration/],
      [{ role: 'prod-readonly', duration: '30m', reason: '' }, /is required/],
      [{ role: 'prod-readonly', duration: '30m', reason: 'bell \u0007' }, /control characters/],
      [{ role: 'prod-readonly', duration: '30m', reason: 'x'.repeat(501) }, /at most 500|too_big|500/i],
      [{ role: 'no-such-role', duration: '30m', reason: 'x' }, /not a role you may request/],
      [{ role: '../etc', duration: '30m', reason: 'x' }, /letters, digits/],
      [{ role: 'breakglass-admin', duration: '30m', reason: 'x' }, /not a role you may request/],
      [
        { role: 'prod-readonly', duration: '30m', reason: 'x', extra: 'field' },
        /Unrecognized key|unrecognized/i,
      ],
    ];
    for (const [fields, problem] of cases) {
      const res = await alice.submit(page.html, '/request', fields);
      assert.equal(
        res.status,
        400,
        `${JSON.stringify(fields).slice(0, 80)}: ${mainText(res.html).slice(0, 200)}`,
      );
      assert.match(res.html, problem);
    }
    const policy = await alice.submit(page.html, '/request', {
      role: 'prod-admin',
      duration: '1h',
      reason: 'x',
      ticket: 'not a ticket',
    });
    assert.equal(policy.status, 403);
    assert.match(mainText(policy.html), /Policy does not allow this request.*does not match/);
    const tooLong = await alice.submit(page.html, '/request', {
      role: 'prod-readonly',
      duration: '5h',
      reason: 'x',
    });
    assert.equal(tooLong.status, 403);
    const huge = await alice.submit(page.html, '/request', {
      role: 'prod-readonly',
      duration: '30m',
      reason: 'x'.repeat(20_000),
    });
    assert.equal(huge.status, 413);
    assert.equal((await broker.store.grants.list({ visibleTo: 'all' }, 500)).items.length, grantsBefore);

    assert.equal((await alice.get('/grants/not-a-grant')).status, 404);
    assert.equal((await alice.get(`/grants/grant-${'Z'.repeat(26)}`)).status, 404);
    assert.equal((await alice.get('/grants?show=everything')).status, 400);
    assert.equal((await alice.get('/grants?cursor=%25%25')).status, 400);
    const dave = await signedIn('dave');
    assert.equal((await dave.get('/audit?from=yesterday')).status, 400);
    assert.equal((await dave.get('/audit/events?type=grant.nope')).status, 400);
    assert.equal((await dave.get('/audit/grants.xml')).status, 400);
    assert.equal((await dave.get('/audit?cursor=bm90LWEtY3Vyc29y')).status, 400);
  });

  test('a sign-in link cannot send the browser to another site', async () => {
    const client = new ConsoleClient(api.url);
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const start = await client.get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
      assert.equal(start.status, 303);
    }
    const alice = await signedIn('alice');
    const again = await alice.get(`/auth/login?returnTo=${encodeURIComponent('//evil.example/x')}`);
    assert.equal(again.location, `${api.url}/`);
  });
});

describe('AWS console sign-in', () => {
  test('mints nothing when the federation endpoint does not answer, and says so', async () => {
    const down = await startTestApi(broker, 'http://127.0.0.1:9/federation', { console: {} });
    try {
      const grant = await broker.request('alice', 'prod-readonly', { durationSeconds: 900 });
      const alice = new ConsoleClient(down.url);
      await alice.signIn('alice');
      const page = await alice.get(`/grants/${grant.workflowId}`);
      const res = await alice.submit(page.html, '/aws-console');
      assert.equal(res.status, 502);
      assert.match(mainText(res.html), /AWS console sign-in could not be prepared/);
      assert.equal((await broker.view(grant)).sessions.length, 0, 'no credentials were issued');
    } finally {
      await down.close();
    }
  });

  test('through the local stack stand-in, the browser lands signed in as the grant role; no secret is logged', async () => {
    const standIn = `${process.env.JIT_TEST_OIDC_ISSUER}/federation`;
    const logLines: string[] = [];
    const local = await startTestApi(broker, standIn, { console: {}, logLines });
    try {
      const grant = await broker.request('alice', 'prod-readonly', { durationSeconds: 900 });
      const alice = new ConsoleClient(local.url);
      await alice.signIn('alice');
      const page = await alice.get(`/grants/${grant.workflowId}`);
      const res = await alice.submit(page.html, '/aws-console');
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const landing = await alice.follow(res);
      assert.equal(landing.status, 200);
      assert.match(
        landing.html,
        /Signed in as <code id="signed-in-arn">arn:aws:sts::123456789012:assumed-role\//,
      );
      assert.equal((await broker.view(grant)).sessions.length, 1);

      // What must never reach a log line: the authorization code and state, the session cookie,
      // the tokens in the session, the sign-in token.
      const callback = new URL(alice.visited.find((url) => url.includes('/auth/callback?')) ?? '');
      const sessionId = decodeURIComponent(alice.sessionCookie()?.value ?? '').split('.')[0] ?? '';
      const sealer = new SessionSealer(parsePayloadKeys(testConsoleKeys));
      const sealed = (await sessionRows()).map((r) => sealer.open(sessionId, r.data)).find(Boolean);
      const user = JSON.parse(sealed ?? '{}').user;
      const secrets = [
        callback.searchParams.get('code'),
        callback.searchParams.get('state'),
        sessionId,
        user.accessToken,
        user.refreshToken,
        user.idToken,
        new URL(res.location ?? '').searchParams.get('SigninToken'),
      ];
      assert.ok(secrets.every((s) => typeof s === 'string' && s.length >= 16));
      assert.ok(logLines.some((line) => line.includes('console sign-in')));
      for (const line of logLines)
        for (const secret of secrets)
          assert.ok(!line.includes(secret as string), `a log line carries a secret: ${line.slice(0, 160)}`);
    } finally {
      await local.close();
    }
  });
});

/** erin takes break-glass; resolves once its post-hoc review is open in the read model. */
async function breakGlassGrant(reason: string): Promise<string> {
  const grant = await broker.request('erin', 'breakglass-admin', { durationSeconds: 1800, reason });
  const id = grant.workflowId;
  await eventually('the review open', async () =>
    (await broker.store.grants.get(id))?.review?.status === 'open' ? true : undefined,
  );
  return id;
}

const reviewForms = (html: string) => parseForms(html).filter((f) => /\/(acknowledge|flag)$/.test(f.action));

describe('break-glass reviews, with the rules of the API', () => {
  test('bob acknowledges erin’s break-glass use from his queue; erin, an auditor and a non-reviewer are refused and change nothing', async () => {
    const id = await breakGlassGrant('pager: queue backlog, nobody to approve');
    const [alice, bob, dave, erin] = await Promise.all([
      signedIn('alice'),
      signedIn('bob'),
      signedIn('dave'),
      signedIn('erin'),
    ]);

    const queue = await bob.get('/reviews');
    const card = queue.html.split('<article').find((part) => part.includes(`bg-${id}`));
    assert.ok(card, 'in the Break-glass reviews section of the queue');
    assert.match(mainText(queue.html), /Break-glass reviews \(\d+\)/);
    assert.ok(card.includes('pager: queue backlog') && card.includes('erin@example.test'));
    const bobPage = await bob.get(`/grants/${id}`);
    assert.equal(reviewForms(bobPage.html).length, 2, 'acknowledge and flag');
    assert.match(bobPage.html, /name="revoke"/, 'revoking is offered while the grant is active');

    // The person who used the access sees the review, not its forms; forced, it is refused.
    const erinPage = await erin.get(`/grants/${id}`);
    assert.match(mainText(erinPage.html), /Post-hoc review Review open due/);
    assert.equal(reviewForms(erinPage.html).length, 0, 'no self-review offered');
    const erinToken = parseForms(erinPage.html)[0]?.fields.get('_csrf') ?? '';
    const before = await acceptedUpdates(reviewWorkflowId(id));
    const self = await erin.submit(bobPage.html, '/acknowledge', { _csrf: erinToken });
    assert.equal(self.status, 403);
    assert.match(mainText(self.html), /cannot review your own/);

    // An auditor reads the review but decides nothing; alice, no reviewer, does not even see it.
    const davePage = await dave.get(`/grants/${id}`);
    assert.match(mainText(davePage.html), /Post-hoc review Review open/);
    assert.equal(reviewForms(davePage.html).length, 0);
    const daveToken = parseForms(davePage.html)[0]?.fields.get('_csrf') ?? '';
    const auditor = await dave.submit(bobPage.html, '/acknowledge', { _csrf: daveToken });
    assert.equal(auditor.status, 403);
    assert.match(mainText(auditor.html), /not a reviewer/);
    const alicePage = await alice.get(`/grants/${id}`);
    assert.equal(alicePage.status, 404);
    const aliceToken = parseForms((await alice.get('/grants')).html)[0]?.fields.get('_csrf') ?? '';
    const outsider = await alice.submit(bobPage.html, '/flag', {
      _csrf: aliceToken,
      reason: 'x',
      revoke: 'on',
    });
    assert.equal(outsider.status, 404);

    // A flag needs a reason: 400, the field named, nothing sent.
    const noReason = await bob.submit(bobPage.html, '/flag', { reason: '  ' });
    assert.equal(noReason.status, 400);
    assert.match(mainText(noReason.html), /Why flag it .*is required/);
    const extra = await bob.submit(bobPage.html, '/acknowledge', { outcome: 'flagged' });
    assert.equal(extra.status, 400, 'unknown fields are refused');
    assert.equal(await acceptedUpdates(reviewWorkflowId(id)), before, 'no refused decision was sent');
    const still = await broker.store.grants.get(id);
    assert.equal(still?.review?.status, 'open');
    assert.equal(still?.status, 'active');

    const acknowledged = await bob.submit(queue.html, `/grants/${id}/acknowledge`, {
      comment: 'checked the runbook; justified',
    });
    assert.equal(acknowledged.status, 303, mainText(acknowledged.html));
    assert.equal(acknowledged.location, `${api.url}/reviews`);
    assert.match(
      mainText((await bob.follow(acknowledged)).html),
      /Acknowledged the break-glass use of breakglass-admin by erin@example\.test/,
    );
    const decided = await eventually('the review decided', async () => {
      const view = await broker.store.grants.get(id);
      return view?.review?.status === 'decided' ? view : undefined;
    });
    assert.equal(decided.review?.outcome, 'acknowledged');
    assert.equal(decided.review?.reviewer, 'bob');
    assert.equal(decided.review?.comment, 'checked the runbook; justified');
    assert.equal(decided.status, 'active', 'acknowledging leaves the grant alone');
    const seen = mainText((await erin.get(`/grants/${id}`)).html);
    assert.match(seen, /Acknowledged .*by bob@example\.test, on time/);
    assert.match(seen, /Comment checked the runbook; justified/);
    const decidedMark = (await bob.get('/reviews')).html.split('<article').find((p) => p.includes(id));
    assert.ok(decidedMark?.includes('You acknowledged'), 'marked in the decided list');

    // Decided once: a second decision is refused.
    const again = await bob.submit(
      bobPage.html.replaceAll(/name="key" value="[^"]+"/g, 'name="key" value="another-form-key-2"'),
      '/flag',
      { reason: 'second thoughts' },
    );
    assert.equal(again.status, 409);
    assert.equal((await broker.store.grants.get(id))?.review?.outcome, 'acknowledged');
  });

  test('a flag that asks for it revokes the active grant', async () => {
    const id = await breakGlassGrant('pager: cache stampede');
    const carol = await signedIn('carol');
    const page = await carol.get(`/grants/${id}`);
    const flagged = await carol.submit(page.html, '/flag', {
      reason: 'no incident was open',
      revoke: 'on',
    });
    assert.equal(flagged.status, 303, mainText(flagged.html));
    assert.match(
      mainText((await carol.follow(flagged)).html),
      /Flagged the break-glass use of breakglass-admin/,
    );
    const view = await eventually('revoked and flagged', async () => {
      const v = await broker.store.grants.get(id);
      return v?.status === 'revoked' && v.review?.status === 'decided' ? v : undefined;
    });
    assert.equal(view.review?.outcome, 'flagged');
    assert.equal(view.review?.reviewer, 'carol');
    assert.equal(view.review?.revokeRequested, true);
    assert.equal(view.endedBy, 'carol');
    const erin = await signedIn('erin');
    const seen = mainText((await erin.get(`/grants/${id}`)).html);
    assert.match(seen, /Flagged .*by carol@example\.test, on time/);
    assert.match(seen, /Comment no incident was open/);
    assert.match(seen, /asked for the grant to be revoked/);
  });
});

describe('reviews and audits', () => {
  test('an extension waiting for approval is in the queue; a reviewer approves it there', async () => {
    const grant = await broker.request('alice', 'prod-admin', { durationSeconds: 3600, ticket: 'INC-8' });
    await broker.approve(grant, 'bob');
    await broker.approve(grant, 'carol');
    const alice = await signedIn('alice');
    const page = await alice.get(`/grants/${grant.workflowId}`);
    const asked = await alice.submit(page.html, '/extend', {
      duration: '30m',
      reason: 'migration runs long',
    });
    assert.equal(asked.status, 303, mainText(asked.html));
    assert.match(
      mainText((await alice.follow(asked)).html),
      /Extension of 30 min requested: it waits for approval/,
    );

    const bob = await signedIn('bob');
    const queue = await bob.get('/reviews');
    const card = queue.html.split('<article').find((part) => part.includes(grant.workflowId));
    assert.ok(
      card?.includes('Extension') && card.includes('migration runs long'),
      'the extension is in the queue',
    );
    assert.match(card ?? '', /name="target" value="extension"/);
    const approved = await bob.submit(queue.html, `/grants/${grant.workflowId}/approve`, { comment: 'fine' });
    assert.equal(approved.status, 303, mainText(approved.html));
    assert.equal(approved.location, `${api.url}/reviews`);
    const extension = (await broker.view(grant)).pendingExtension;
    assert.equal(extension?.requiredApprovals, 2, 'prod-admin extensions need two reviewers too');
    assert.deepEqual(
      extension?.approvals.map((a) => [a.by, a.comment]),
      [['bob', 'fine']],
    );
  });

  test('a reviewer denies with a reason; the requester cancels a pending request', async () => {
    const first = await pendingAdminGrant();
    const second = await pendingAdminGrant();
    const bob = await signedIn('bob');
    const page = await bob.get(`/grants/${first}`);
    const noReason = await bob.submit(page.html, '/deny', { reason: '' });
    assert.equal(noReason.status, 400);
    assert.match(mainText(noReason.html), /Reason to deny .*is required/);
    const denied = await bob.submit(page.html, '/deny', { reason: 'no change window' });
    assert.equal(denied.status, 303);
    assert.equal((await broker.store.grants.get(first))?.status, 'denied');
    const alice = await signedIn('alice');
    const mine = await alice.get(`/grants/${second}`);
    const cancelled = await alice.submit(mine.html, '/cancel');
    assert.equal(cancelled.status, 303);
    assert.equal((await broker.store.grants.get(second))?.status, 'cancelled');
    const list = mainText((await alice.get('/grants?show=ended')).html);
    assert.match(list, /Denied .* by bob@example\.test: no change window/);
    assert.match(list, /Cancelled .* by you/);
  });

  test('verify shows rows checked, the head hash and the first broken row', async () => {
    const dave = await signedIn('dave');
    const good = mainText((await dave.get('/audit/verify?run=1')).html);
    assert.match(good, /The chain verifies Rows checked \d+ Head row \d+, hash [0-9a-f]{64}/);
    const db = rawConnectionForTests(broker.store).db;
    const { sql } = await import('kysely');
    await sql`drop trigger if exists audit_events_no_update`.execute(db);
    await sql`update audit_events set actor = 'mallory' where position = 2`.execute(db);
    const broken = mainText((await dave.get('/audit/verify?run=1')).html);
    assert.match(
      broken,
      /The chain is broken .* First broken row row 2 \(\s*grant-[\w:]+\s*\): hash mismatch/,
    );
  });
});
