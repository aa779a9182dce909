// Slack pieces that need no stack: settings, the directory, message rendering, the replay guard.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ReplayGuard } from '../../api/slack/receiver.js';
import type { GrantCard } from '../../common/grant.js';
import { DirectoryError, fileDirectory } from '../../integrations/directory.js';
import { approvalMessage, escapeText, requesterNotice, statusLine } from '../../integrations/slack/blocks.js';
import { ConfigError, loadConfig } from '../../platform/config.js';

const scratch = mkdtempSync(join(tmpdir(), 'jit-slack-units-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const keys = 'k1:ZGV2LW9ubHktdGVzdC1maXh0dXJlLWtleS0zMmJ5dGU=';

test('Slack settings come as a pair: a token without a signing secret (or the reverse) stops start-up', () => {
  assert.throws(
    () => loadConfig({ JIT_PAYLOAD_KEYS: keys, SLACK_BOT_TOKEN: 'xoxb-1' }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(
        err.message,
        /SLACK_SIGNING_SECRET: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET together/,
      );
      return true;
    },
  );
  assert.throws(() => loadConfig({ JIT_PAYLOAD_KEYS: keys, SLACK_SIGNING_SECRET: 's' }), /SLACK_BOT_TOKEN/);
  const on = loadConfig({ JIT_PAYLOAD_KEYS: keys, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' });
  assert.equal(on.SLACK_API_URL, 'https://slack.com/api/');
  assert.equal(loadConfig({ JIT_PAYLOAD_KEYS: keys }).SLACK_BOT_TOKEN, undefined);
});

test('the directory maps a verified email to one person, case-insensitively; disabled or shared addresses map to nobody', () => {
  const file = join(scratch, 'directory.yaml');
  writeFileSync(
    file,
    `users:
  - { sub: bob, email: Bob@Example.test, groups: [reviewers] }
  - { sub: gone, email: gone@example.test, groups: [reviewers], disabled: true }
  - { sub: gone2, email: gone@example.test, groups: [reviewers] }
  - { sub: twin1, email: shared@example.test }
  - { sub: twin2, email: shared@example.test }
`,
  );
  const directory = fileDirectory(file);
  assert.deepEqual(directory.byEmail('bob@example.TEST'), {
    sub: 'bob',
    email: 'Bob@Example.test',
    groups: ['reviewers'],
  });
  assert.equal(directory.byEmail('gone@example.test'), undefined);
  assert.equal(directory.byEmail('shared@example.test'), undefined);
  assert.equal(directory.byEmail('nobody@example.test'), undefined);

  // An edit is picked up; a broken edit keeps the last good copy.
  writeFileSync(file, 'users:\n  - { sub: carol, email: carol@example.test, groups: [reviewers] }\n');
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.equal(directory.byEmail('carol@example.test')?.sub, 'carol');
  assert.equal(directory.byEmail('bob@example.test'), undefined);
  const errors: Error[] = [];
  const watched = fileDirectory(file, (err) => errors.push(err));
  writeFileSync(file, 'users: [ { sub: 1 ');
  utimesSync(file, new Date(), new Date(Date.now() + 10_000));
  assert.equal(watched.byEmail('carol@example.test')?.sub, 'carol');
  assert.equal(errors.length, 1);
  assert.throws(() => fileDirectory(join(scratch, 'missing.yaml')), DirectoryError);
});

const card = (over: Partial<GrantCard> = {}): GrantCard => ({
  id: 'grant-01JABCDEFGHJKMNPQRSTVWXYZ0',
  status: 'pending',
  requester: { sub: 'alice', email: 'alice@example.test' },
  role: { id: 'prod-admin', account: '123456789012' },
  duration: 5400,
  reason: 'fix <https://evil.example|your bank> & <@U123> <!here>',
  ticket: 'INC-1',
  breakGlass: false,
  approvals: [{ by: 'bob', email: 'bob@example.test' }],
  requiredApprovals: 2,
  ...over,
});

test('user text is escaped so it cannot mention, link or ping; states read as people expect', () => {
  assert.equal(escapeText('<!channel> & <@U1>'), '&lt;!channel&gt; &amp; &lt;@U1&gt;');
  const text = JSON.stringify(approvalMessage(card()).blocks);
  assert.ok(!text.includes('<!here>') && !text.includes('<@U123>') && !text.includes('<https://evil'));
  assert.ok(text.includes('1h 30m'));
  assert.match(statusLine(card()), /1 of 2 \(bob@example\.test\)/);
  assert.match(
    statusLine(card({ status: 'active', expiresAt: '2026-11-21T10:30:00.000Z' })),
    /Approved by bob@example\.test; active until <!date\^1795257000\^\{date_short_pretty\} \{time\}\|2026-11-21 10:30 UTC>/,
  );
  assert.equal(
    statusLine(card({ status: 'denied', endReason: 'denied by bob@example.test: <b>no</b>' })),
    ':no_entry_sign: Denied by bob@example.test: &lt;b&gt;no&lt;/b&gt;',
  );
  assert.equal(
    statusLine(card({ status: 'timed_out', endReason: 'no decision within 1800s' })),
    ':no_entry_sign: Timed out: no decision within 1800s',
  );
  assert.equal(
    approvalMessage(card({ status: 'expired' })).blocks.some(
      (b) => (b as { type: string }).type === 'actions',
    ),
    false,
  );
  const expiring = card({ status: 'active', expiresAt: '2026-11-21T10:30:00.000Z' });
  const reminder = requesterNotice('expiring', expiring, Date.parse('2026-11-21T10:23:00.000Z'));
  assert.match(reminder, /in about 7 min\). To extend it: `jit extend grant-/);
  assert.match(
    statusLine(card({ status: 'failed', endReason: 'AccessDenied: arn:aws:iam::1:role/x' })),
    /Failed: credentials could not be issued$/,
  );
  const long = JSON.stringify(approvalMessage(card({ reason: '&'.repeat(500) })).blocks);
  assert.ok(!long.includes('&amp;'.repeat(600)), 'escaped text is clipped to what Slack accepts');
});

test('the replay guard refuses a signature seen within the window and forgets it after', () => {
  const guard = new ReplayGuard(1000);
  assert.equal(guard.firstSighting('v0=a', 0), true);
  assert.equal(guard.firstSighting('v0=a', 500), false);
  assert.equal(guard.firstSighting('v0=b', 600), true);
  assert.equal(
    guard.firstSighting('v0=a', 1500),
    true,
    'outside the window the timestamp check refuses it anyway',
  );
  const small = new ReplayGuard(60_000, 2);
  for (const sig of ['1', '2', '3']) assert.equal(small.firstSighting(sig, 0), true);
  assert.equal(small.firstSighting('3', 1), false, 'bounded: the newest are kept');
});
