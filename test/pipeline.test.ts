// A CI pipeline as it would really run: a shell script driving the `jit` CLI with a
// client-credentials token (no login, no prompt), exit codes deciding what happens next. It gets
// auto-approved read access within its policy, is refused a role its claims do not allow and
// refused as an approver, and loses everything to an auditor's kill switch; every step is on the
// audit trail. Also: the CLI fetching a GitHub Actions OIDC token, and a token the API refuses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestApi, type TestApi } from './support/api.js';
import { startTestBroker, type TestBroker } from './support/broker.js';
import { cliUser, jitBin } from './support/cli.js';

let broker: TestBroker;
let api: TestApi;
let dir: string;

before(async () => {
  broker = await startTestBroker();
  await broker.startWorker();
  api = await startTestApi(broker);
  dir = mkdtempSync(join(tmpdir(), 'jit-pipeline-'));
});
after(async () => {
  await api?.close();
  await broker?.close();
});

const PIPELINE = `
set -u
jit() { "$NODE" "$JIT_BIN" "$@"; }
id_of() { "$NODE" -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).id'; }

# Read access within its policy: auto-approved, active at once.
READ=$(jit request prod-readonly --for 20m --reason "nightly report" --wait --json | id_of) || exit 10
jit creds "$READ" > "$OUT/creds.json" || exit 11
echo "read=$READ"

# A role its claims do not allow.
jit request prod-admin --for 30m --reason "try admin" --ticket INC-1 2> "$OUT/admin.err"
echo "admin-exit=$?"

# The deploy role for longer than 30 minutes waits for a reviewer.
DEPLOY=$(jit request prod-deploy --for 45m --reason "schema migration" --json | id_of) || exit 12
echo "deploy=$DEPLOY"

# Approving its own request, or anyone's: never.
jit approve "$DEPLOY" 2> "$OUT/approve.err"
echo "approve-exit=$?"
`;

function runScript(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a pipeline with a client-credentials token: read access, refusals, then the kill switch', async () => {
  const pipeline = cliUser(api.url);
  const run = await runScript(PIPELINE, {
    ...pipeline.env,
    NODE: process.execPath,
    JIT_BIN: jitBin,
    OUT: dir,
    JIT_TOKEN: await api.token('ci-deployer'),
  });
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  const out = Object.fromEntries(
    run.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=') as [string, string]),
  );
  const read = out.read as string;
  const deploy = out.deploy as string;
  assert.match(read, /^grant-/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'creds.json'), 'utf8')).Version, 1);
  assert.equal(out['admin-exit'], '1');
  assert.match(readFileSync(join(dir, 'admin.err'), 'utf8'), /refused \(policy_denied\)/);
  assert.equal(out['approve-exit'], '1');
  assert.match(
    readFileSync(join(dir, 'approve.err'), 'utf8'),
    /refused \(not_eligible\): workloads never review access/,
  );

  // An auditor pulls the kill switch from a script of their own (a token file, no login).
  const daveToken = join(dir, 'dave.token');
  writeFileSync(daveToken, `${await api.token('dave')}\n`, { mode: 0o600 });
  const dave = cliUser(api.url);
  const killed = await dave.run(
    'kill',
    'workload:ci-deployer',
    '--reason',
    'pipeline compromised',
    '--token-file',
    daveToken,
  );
  assert.equal(killed.code, 0, killed.stderr);
  assert.match(killed.stdout, new RegExp(`${read}: revoked`));
  assert.match(killed.stdout, new RegExp(`${deploy}: cancelled`));

  // It has nothing left.
  const creds = await pipeline.run('creds', read);
  assert.notEqual(creds.code, 0);
  assert.equal(creds.stdout, '');
  const held = await dave.run(
    'list',
    '--requester',
    'workload:ci-deployer',
    '--json',
    '--token-file',
    daveToken,
  );
  assert.equal(held.code, 0, held.stderr);
  const statuses = Object.fromEntries(
    (JSON.parse(held.stdout).requests as { id: string; status: string }[]).map((g) => [g.id, g.status]),
  );
  assert.deepEqual(statuses, { [read]: 'revoked', [deploy]: 'cancelled' });

  // Every step on the audit trail, with who acted and what kind of actor they are.
  const exported = await api.call('GET', '/v1/audit/events?requester=workload:ci-deployer', { user: 'dave' });
  const rows = String(exported.body)
    .trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as {
          type: string;
          actor: string;
          grantId: string;
          roleId: string;
          data: { actorKind?: string; reason?: string; revoke?: string[]; cancel?: string[] };
        },
    );
  const steps = rows.map(
    (r) =>
      `${r.type} ${r.grantId === read ? 'read' : r.grantId === deploy ? 'deploy' : r.roleId} ${r.data.actorKind}`,
  );
  assert.deepEqual(steps, [
    'grant.requested read workload',
    'grant.activated read system',
    'grant.credentials_issued read workload',
    'access.refused prod-admin workload',
    'grant.requested deploy workload',
    'access.refused  workload',
    'principal.revoked_all  person',
    'grant.revoked read person',
    'grant.cancelled deploy person',
  ]);
  const kill = rows.find((r) => r.type === 'principal.revoked_all');
  assert.equal(kill?.actor, 'dave');
  assert.deepEqual([kill?.data.revoke, kill?.data.cancel], [[read], [deploy]]);
  const revoked = rows.find((r) => r.type === 'grant.revoked');
  assert.match(revoked?.data.reason ?? '', new RegExp(`kill switch ${kill?.grantId}: pipeline compromised`));
});

test('in GitHub Actions the CLI fetches the job OIDC token; a token the API refuses is exit 2', async () => {
  const ciToken = await api.token('ci-deployer');
  const seen: { url: string; authorization: string | undefined }[] = [];
  const actions = createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: ciToken }));
  });
  await new Promise<void>((resolve) => actions.listen(0, '127.0.0.1', resolve));
  try {
    const job = cliUser(api.url);
    Object.assign(job.env, {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(actions.address() as AddressInfo).port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-of-the-job',
      JIT_TOKEN_AUDIENCE: 'jit-broker-workloads',
    });
    const roles = await job.run('roles', '--json');
    assert.equal(roles.code, 0, roles.stderr);
    assert.deepEqual((JSON.parse(roles.stdout).roles as { id: string }[]).map((r) => r.id).sort(), [
      'prod-deploy',
      'prod-readonly',
    ]);
    assert.deepEqual(seen, [
      {
        url: '/token?api-version=2.0&audience=jit-broker-workloads',
        authorization: 'bearer request-token-of-the-job',
      },
    ]);
  } finally {
    actions.close();
  }

  const stale = cliUser(api.url);
  stale.env.JIT_TOKEN = 'not.a.token';
  const refused = await stale.run('roles');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /the API refused the token from JIT_TOKEN \(unauthenticated: /);
  assert.doesNotMatch(refused.stderr, /jit login/);
});
