// The web console in a real browser (Debian's Chromium through playwright-core), end to end on the
// test stack: people sign in on the dev issuer's login page, request, review, use, revoke, audit.
// Every page is checked with axe-core and for CSP violations, and screenshotted
// (.data/test/screenshots/; JIT_UPDATE_SCREENSHOTS=1 rewrites the README's, docs/screenshots/).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startTestApi, type TestApi } from './support/api.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { checkPage, launchChromium, newPerson, openPage, screenshot, signIn } from './support/browser.js';

let broker: TestBroker;
let api: TestApi;
let browser: Browser;
let consoleUrl: string;
const people = new Map<string, { context: BrowserContext; page: Page }>();
let adminGrant: string;

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  // The local stack's federation stand-in (served by the dev issuer), so "Open the AWS console" works.
  api = await startTestApi(broker, `${process.env.JIT_TEST_OIDC_ISSUER}/federation`, { console: {} });
  consoleUrl = `${api.url}/`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await api?.close();
  await broker?.close();
});

/** A person with their own browser context, signed in. */
async function person(user: string, opts: Parameters<typeof newPerson>[1] = {}) {
  const known = people.get(user);
  if (known) return known;
  const context = await newPerson(browser, opts);
  const page = await openPage(context);
  await signIn(page, consoleUrl, user);
  const entry = { context, page };
  people.set(user, entry);
  return entry;
}

/** What a part of the page says, whitespace folded. */
const text = async (locator: Locator) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();

const grantIdOf = (page: Page) => new URL(page.url()).pathname.split('/').pop() ?? '';

/** Waits until the live region shows the text (live updates, no reload). */
const liveText = (page: Page, selector: string, text: RegExp) =>
  // A function, not a string: the console's CSP forbids evaluating strings in the page.
  page.waitForFunction(
    ([sel, source]) =>
      new RegExp(source).test(
        (globalThis as unknown as { document: PageDocument }).document.querySelector(sel)?.textContent ?? '',
      ),
    [selector, text.source] as const,
    { timeout: 20_000 },
  );

type PageDocument = { querySelector(selector: string): { textContent: string | null } | null };

test('alice signs in through the dev issuer and requests prod-admin; the form checks itself before sending', async () => {
  const context = await newPerson(browser, { timezoneId: 'America/New_York' });
  const page = await openPage(context);
  await page.goto(consoleUrl);
  await checkPage(page, 'sign-in');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').waitFor();
  await checkPage(page, 'issuer-login');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('alice');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${api.url}/grants`);
  people.set('alice', { context, page });
  await page.getByText('You have no grants yet').waitFor();
  await checkPage(page, 'my-grants-empty');

  await page.getByRole('link', { name: 'Request access' }).first().click();
  await page.getByRole('radio', { name: /prod-admin/ }).check();
  await checkPage(page, 'request-form', { committed: true });
  // Nothing filled in: the browser says what is missing and sends nothing.
  await page.getByRole('button', { name: 'Request' }).click();
  await page.getByText('Say how long, like 30m or 1h.', { exact: true }).waitFor();
  await page.getByText('prod-admin needs a ticket.', { exact: true }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/request');
  await page.getByLabel('For how long').fill('5h');
  await page.getByRole('button', { name: 'Request' }).click();
  await page.getByText('At most 4 h for prod-admin.', { exact: true }).waitFor();
  await checkPage(page, 'request-form-errors');

  await page.getByLabel('For how long').fill('1h');
  await page.getByLabel('Why').fill('INC-42: rotate the leaked deploy key');
  await page.getByLabel('Ticket', { exact: true }).fill('INC-42');
  await page.getByRole('button', { name: 'Request' }).click();
  await page.waitForURL(/\/grants\/grant-/);
  adminGrant = grantIdOf(page);
  await page.getByText('it waits for 2 approvals').waitFor();
  assert.match(await text(page.locator('#grant-status')), /Pending\s+0 of 2 approvals/);
  // Times in the reader's zone (New York here), as Intl prints them there.
  const requested = page.locator('#grant-status time').first();
  const iso = (await requested.getAttribute('datetime')) ?? '';
  const inNewYork = new Intl.DateTimeFormat('en-US', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
    timeZone: 'America/New_York',
  }).format(new Date(iso));
  assert.equal(await text(requested), inNewYork);
  assert.match(inNewYork, /E[SD]T/);
  await checkPage(page, 'grant-pending');
});

test('bob and carol approve from their queues; a second approval by bob is refused; alice sees it live', async () => {
  const bob = await person('bob');
  await bob.page.goto(`${api.url}/reviews`);
  const card = bob.page.locator('article', { hasText: 'INC-42: rotate the leaked deploy key' });
  await card.waitFor();
  const cardText = await text(card);
  for (const fact of ['alice@example.test', 'prod-admin', '1 h', 'INC-42', '0 of 2'])
    assert.ok(cardText.includes(fact), fact);
  assert.match(await text(bob.page.getByRole('navigation', { name: 'Main' })), /Reviews\s*1/);
  await checkPage(bob.page, 'review-queue', { committed: true });

  // A second tab of bob's queue, left open with a comment typed (so live updates leave it alone).
  const stale = await openPage(bob.context);
  await stale.goto(`${api.url}/reviews`);
  const staleCard = stale.locator('article', { hasText: 'INC-42: rotate the leaked deploy key' });
  await staleCard.getByLabel('Comment (optional)').fill('approving twice?');

  await card.getByLabel('Comment (optional)').fill('key rotation is overdue');
  await card.getByRole('button', { name: 'Approve' }).click();
  await bob.page.getByText('Approved. 1 of 2 approvals so far.').waitFor();
  const decided = bob.page.locator('#decided article', { hasText: 'INC-42' });
  await decided.getByText('You approved').waitFor();
  await checkPage(bob.page, 'review-queue-decided');

  await staleCard.getByRole('button', { name: 'Approve' }).click();
  await stale.getByText('You have already approved this').waitFor();
  await checkPage(stale, 'review-second-approval-refused');
  assert.equal((await broker.store.grants.get(adminGrant))?.approvals.length, 1);

  const alice = await person('alice');
  await liveText(alice.page, '#grant-status', /1 of 2 approvals \(bob@example\.test\)/);

  // carol, with the keyboard only: the comment field, then Tab to Approve and Enter.
  const carol = await person('carol');
  await carol.page.goto(`${api.url}/reviews`);
  const carolCard = carol.page.locator('article', { hasText: 'INC-42: rotate the leaked deploy key' });
  await carolCard.getByLabel('Comment (optional)').focus();
  await carol.page.keyboard.type('ok from carol');
  await carol.page.keyboard.press('Tab');
  assert.equal(await carol.page.evaluate('document.activeElement?.textContent'), 'Approve');
  await carol.page.keyboard.press('Enter');
  await carol.page.getByText(/Approved: prod-admin of alice@example\.test is active/).waitFor();
  await checkPage(carol.page, 'review-queue-empty');
});

test('alice sees her grant active, opens the AWS console, copies the CLI lines and revokes it', async () => {
  const { page } = await person('alice');
  await liveText(page, '#grant-status', /Active\s+until/);
  await page.getByRole('heading', { name: 'Use this access' }).waitFor();
  assert.equal(await text(page.locator('#copy-creds')), `jit creds ${adminGrant}`);
  assert.match(await text(page.locator('#copy-profile')), /credential_process = jit creds --role prod-admin/);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
  await page.locator('button[data-copy="copy-creds"]').click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate('navigator.clipboard.readText()'), `jit creds ${adminGrant}`);
  await checkPage(page, 'grant-active', { committed: true });

  await page.getByRole('button', { name: 'Open the AWS console' }).click();
  await page.waitForURL(/\/federation\?Action=login/);
  assert.match(
    await text(page.locator('#signed-in-arn')),
    /^arn:aws:sts::123456789012:assumed-role\/jit-t[0-9a-f]+-prod-admin\//,
  );
  await page.goBack();
  await page.goto(`${api.url}/grants/${adminGrant}`);
  await page.locator('#grant-sessions table').waitFor();
  assert.match(await text(page.locator('#grant-sessions')), /alice@example\.test/);

  await page.getByRole('button', { name: 'Revoke now' }).click();
  await page.getByText('Revoked. Sessions still open are denied until they expire.').waitFor();
  assert.match(await text(page.locator('#grant-status')), /Revoked/);
  assert.equal((await broker.store.grants.get(adminGrant))?.status, 'revoked');
  await checkPage(page, 'grant-revoked');
});

test('dave searches grants and events, exports them and verifies the chain; the grant page shows the whole story', async () => {
  const { page } = await person('dave');
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByLabel('Requester').fill('alice');
  await page.getByLabel('Role').selectOption('prod-admin');
  await page.getByLabel('Status').selectOption('revoked');
  await page.getByRole('button', { name: 'Search' }).click();
  const found = page.locator('#audit-grants article');
  await found.first().waitFor();
  assert.equal(await found.count(), 1);
  assert.match(await text(found), /INC-42: rotate the leaked deploy key/);
  await checkPage(page, 'audit-grants', { committed: true });

  // Times are typed in the reader's zone: nothing was requested before 2020.
  await page.getByLabel('Until (your time)').fill('2020-01-01T00:00');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No grant matches this search.').waitFor();
  assert.match(
    new URL(page.url()).searchParams.get('to') ?? '',
    /^2019-12-31T23:00:00\.000Z$/,
    'Berlin midnight, in UTC',
  );
  await page.getByLabel('Until (your time)').fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  await found.first().waitFor();

  const [summaries] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'grant summaries (CSV)' }).click(),
  ]);
  const csv = readFileSync((await summaries.path()) ?? '', 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.equal(lines.length, 2, 'the header and the one grant the search shows');
  assert.match(
    lines[1] ?? '',
    new RegExp(`^${adminGrant},alice,alice@example.test,prod-admin,.*,"bob,carol",.*,revoked,revoked,alice,`),
  );

  await page.getByRole('link', { name: 'Events' }).click();
  await page.getByLabel('Grant id').fill(adminGrant);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#audit-events tbody tr').first().waitFor();
  const types = await page.locator('#audit-events tbody tr td:nth-child(3)').allInnerTexts();
  for (const type of [
    'grant.requested',
    'grant.approval_recorded',
    'grant.activated',
    'grant.credentials_issued',
    'grant.revoked',
  ])
    assert.ok(types.includes(type), type);
  await checkPage(page, 'audit-events');
  const [events] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'JSON Lines' }).click(),
  ]);
  const rows = readFileSync((await events.path()) ?? '', 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    rows.map((r) => r.type).sort(),
    [...types].sort(),
    'the export holds the events the search shows',
  );
  assert.ok(rows.every((r) => r.grantId === adminGrant && /^[0-9a-f]{64}$/.test(r.hash)));

  await page.getByRole('link', { name: 'Verify the chain' }).click();
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await page.getByRole('heading', { name: 'The chain verifies' }).waitFor();
  assert.ok(Number(await text(page.locator('#rows-checked'))) >= rows.length);
  assert.match(await text(page.locator('#head-hash')), /^[0-9a-f]{64}$/);
  await checkPage(page, 'audit-verify', { committed: true });

  await page.goto(`${api.url}/grants/${adminGrant}`);
  const timeline = await text(page.locator('#grant-timeline'));
  for (const step of [
    'Requested',
    'Approved by bob@example.test: key rotation is overdue',
    'Approved by carol@example.test',
    'Active',
    'Credentials issued',
    'Revoked by alice@example.test: done',
  ])
    assert.ok(timeline.includes(step), step);
  const sessions = await text(page.locator('#grant-sessions'));
  assert.match(sessions, /ASIA[A-Z0-9]{12,}/, 'AccessKeyId for CloudTrail');
  assert.match(sessions, /alice@example\.test/, 'SourceIdentity');
  assert.match(await text(page.locator('#grant-status')), /Ended.*revoked by alice@example\.test \(done\)/s);
  await checkPage(page, 'grant-audited');
});

test('erin takes break-glass: she confirms it is an emergency and it is active at once; bob flags it in its post-hoc review and revokes it', async () => {
  const { page } = await person('erin');
  await page.goto(`${api.url}/request?role=breakglass-admin`);
  await page.getByText('This is an emergency').waitFor();
  await page.getByLabel('For how long').fill('30m');
  await page.getByLabel('Why').fill('pager: database down, nobody to approve');
  await page.getByRole('button', { name: 'Request' }).click();
  await page.getByText('Confirm that this is an emergency.', { exact: true }).waitFor();
  await page.getByLabel(/This is an emergency/).check();
  await page.getByRole('button', { name: 'Request' }).click();
  await page.waitForURL(/\/grants\/grant-/);
  // Active at once. (Not the one-off notice: the review opening a moment later refreshes the page
  // live, which may already have replaced it.)
  await liveText(page, '#grant-status', /Active\s+until/);
  assert.match(await text(page.locator('.page-head')), /Break-glass/);
  assert.match(
    await text(page.locator('#grant-approvals')),
    /None needed: break-glass, reviewed after the fact/,
  );
  await checkPage(page, 'grant-break-glass');
  const id = grantIdOf(page);
  // Its post-hoc review opens a moment later; erin sees it, with no way to decide it herself.
  await liveText(page, '#grant-review', /Review open due/);
  assert.equal(await page.locator('form[action$="/acknowledge"], form[action$="/flag"]').count(), 0);

  // bob finds it in the Break-glass reviews of his queue and flags it from the grant page, revoking it.
  const bob = await person('bob');
  await bob.page.goto(`${api.url}/reviews`);
  const card = bob.page.locator('#breakglass-reviews article', { hasText: 'pager: database down' });
  await card.waitFor();
  assert.match(await text(card), /erin@example\.test: breakglass-admin .*Review due/);
  await checkPage(bob.page, 'review-queue-break-glass');
  await card.getByRole('link', { name: /breakglass-admin/ }).click();
  await bob.page.waitForURL(new RegExp(`/grants/${id}$`));
  const panel = bob.page.locator('#breakglass-review');
  await panel.getByRole('button', { name: 'Flag' }).click();
  // The browser asks for the required reason before anything is sent.
  assert.equal(
    await panel
      .getByLabel('Why flag it')
      .evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid),
    false,
  );
  await panel.getByLabel('Why flag it').fill('the database was up; no page was open');
  await panel.getByLabel('Also revoke the grant now').check();
  await panel.getByRole('button', { name: 'Flag' }).click();
  await bob.page
    .getByText(/Flagged the break-glass use of breakglass-admin by erin@example\.test\./)
    .waitFor();
  await liveText(bob.page, '#grant-review', /Flagged .*by you, on time/);
  assert.match(
    await text(bob.page.locator('#grant-review')),
    /Comment ?the database was up; no page was open/,
  );
  await checkPage(bob.page, 'grant-break-glass-review', { committed: true });

  // erin's page follows live: flagged by bob, and her access revoked.
  await liveText(page, '#grant-review', /Flagged .*by bob@example\.test, on time/);
  await liveText(page, '#grant-status', /Revoked/);
  const view = await broker.store.grants.get(id);
  assert.equal(view?.status, 'revoked');
  assert.equal(view?.review?.outcome, 'flagged');
});

test('refusals: alice has no queue; a forged CSRF token and a cookie replayed from another origin change nothing', async () => {
  const { page } = await person('alice');
  assert.doesNotMatch(await text(page.getByRole('navigation', { name: 'Main' })), /Reviews|Audit/);
  const queue = await page.goto(`${api.url}/reviews`);
  assert.equal(queue?.status(), 403);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  await checkPage(page, 'refused-queue');

  const grant = await broker.request('alice', 'prod-readonly', {
    durationSeconds: 1800,
    reason: 'refusal checks',
  });
  const id = grant.workflowId;
  await page.goto(`${api.url}/grants/${id}`);
  await page.locator('form[action$="/revoke"] input[name="_csrf"]').evaluate((input) => {
    (input as unknown as { value: string }).value = 'forged-csrf-token';
  });
  await page.getByRole('button', { name: 'Revoke now' }).click();
  await page.getByRole('heading', { name: 'This form can no longer be sent' }).waitFor();
  await checkPage(page, 'refused-csrf');
  assert.equal((await broker.view(grant)).status, 'active');

  // Another origin (a page on another port) posts to the console: from alice's own browser, and
  // from an attacker's browser holding alice's stolen session cookie.
  const evil = await evilSite(`${api.url}/grants/${id}/revoke`);
  try {
    const answers: number[] = [];
    const alicesBrowser = await openPage(page.context());
    const thief = await newPerson(browser);
    await thief.addCookies(await page.context().cookies(api.url));
    const thiefPage = await openPage(thief);
    for (const victim of [alicesBrowser, thiefPage]) {
      const response = victim.waitForResponse((r) => r.url().endsWith(`/grants/${id}/revoke`));
      await victim.goto(evil.url);
      answers.push((await response).status());
      await victim.getByText(/another site/).waitFor();
    }
    assert.deepEqual(answers, [403, 403]);
    await thief.close();
  } finally {
    evil.server.close();
  }
  assert.equal((await broker.view(grant)).status, 'active', 'nothing was revoked');
});

test('on a phone the pages fit the screen, and sign-out ends the session at the issuer too', async () => {
  const phone = await newPerson(browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await openPage(phone);
  await signIn(page, consoleUrl, 'bob');
  for (const [path, name, committed] of [
    [`/grants/${adminGrant}`, 'phone-grant', true],
    ['/reviews', 'phone-reviews', false],
  ] as const) {
    await page.goto(`${api.url}${path}`);
    const overflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    );
    assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px on a phone`);
    await checkPage(page, name, { committed });
  }
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${api.url}/signed-out`);
  await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
  await checkPage(page, 'signed-out');
  const again = await page.goto(`${api.url}/grants`);
  assert.match(again?.url() ?? '', /\/interaction\//, 'signed out at the issuer too: its login page again');
  await screenshot(page, 'issuer-login-after-sign-out');
  await phone.close();
});

/** A page on another origin whose form posts to `target` as soon as it loads. */
async function evilSite(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!DOCTYPE html><html lang="en"><title>win a prize</title><body>
<form id="f" method="post" action="${target}"><input name="reason" value="gotcha"><input name="key" value="evil-form-key-123"></form>
<script>document.getElementById('f').submit()</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
