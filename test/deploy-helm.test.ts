// The Helm chart (infra/helm/jit-broker): `helm lint`, `helm template` with the chart's ci/ values
// files (defaults, IRSA + Temporal Cloud API key, self-hosted mTLS, autoscaling off), what the
// rendered manifests promise, and kube-score on them. helm and kube-score are built once from the
// Go module proxy into .cache/bin (infra/tools/go-tools.ts); later and offline runs reuse them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../infra/paths.js';
import { ensureGoTool, HELM, KUBE_SCORE } from '../infra/tools/go-tools.js';
import type { TemplateJson } from './support/deploy-cdk.js';

const chart = join(repoRoot, 'infra/helm/jit-broker');
const valuesFile = (name: string) => join(chart, 'ci', `${name}-values.yaml`);
const scratch = mkdtempSync(join(tmpdir(), 'jit-helm-'));
let helm: string;
let kubeScore: string;

before(
  async () => {
    const log = (msg: string) => process.stdout.write(`# ${msg}\n`);
    helm = await ensureGoTool(HELM, log);
    kubeScore = await ensureGoTool(KUBE_SCORE, log);
  },
  { timeout: 20 * 60_000 },
);
after(() => rmSync(scratch, { recursive: true, force: true }));

function run(command: string, args: string[]): { status: number | null; out: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, HOME: scratch } });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

function render(values: string, ...set: string[]): TemplateJson[] {
  const { status, out } = run(helm, [
    'template',
    'jit',
    chart,
    '-f',
    values,
    ...set.flatMap((s) => ['--set', s]),
  ]);
  assert.equal(status, 0, out);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as TemplateJson | null)
    .filter((d): d is TemplateJson => d !== null);
}

const find = (docs: TemplateJson[], kind: string, nameSuffix = '') =>
  docs.filter((d) => d.kind === kind && String(d.metadata.name).endsWith(nameSuffix));
const deployment = (docs: TemplateJson[], component: 'api' | 'worker') => {
  const [d] = find(docs, 'Deployment', `-${component}`);
  assert.ok(d, `no ${component} Deployment`);
  return d;
};
const container = (d: TemplateJson) => d.spec.template.spec.containers[0];
const envOf = (d: TemplateJson) =>
  Object.fromEntries((container(d).env as TemplateJson[]).map((e) => [e.name, e.value ?? e.valueFrom]));

/** kube-score's findings other than OK and skipped, one per line. */
function kubeScoreFindings(docs: TemplateJson[], name: string): string[] {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'));
  const { out } = run(kubeScore, ['score', '--kubernetes-version', 'v1.31', '--output-format', 'ci', file]);
  return out.split('\n').filter((line) => line.startsWith('[') && !/^\[(OK|SKIPPED)\]/.test(line));
}

const SECRET_ENV = [
  'JIT_PAYLOAD_KEYS',
  'JIT_ASSERTION_SIGNING_KEY',
  'DATABASE_URL',
  'PGPASSWORD',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'TEMPORAL_API_KEY',
];

describe('helm chart', () => {
  for (const name of ['defaults', 'irsa-cloud', 'mtls', 'no-autoscaling']) {
    test(`${name}: helm lint --strict passes, kube-score finds nothing, secrets only by reference`, () => {
      const lint = run(helm, ['lint', '--strict', chart, '-f', valuesFile(name)]);
      assert.equal(lint.status, 0, lint.out);
      const docs = render(valuesFile(name));
      assert.deepEqual(kubeScoreFindings(docs, name), []);
      for (const component of ['api', 'worker'] as const) {
        for (const entry of container(deployment(docs, component)).env as TemplateJson[]) {
          if (!SECRET_ENV.includes(entry.name)) continue;
          assert.equal(entry.value, undefined, `${entry.name} has an inline value`);
          assert.ok(entry.valueFrom.secretKeyRef.name && entry.valueFrom.secretKeyRef.key);
        }
      }
      assert.equal(find(docs, 'Secret').length, 0, 'the chart must not create Secrets');
    });
  }

  test('defaults: hardened pods, probes on the API, production start commands, PDBs, HPA, NetworkPolicies', () => {
    const docs = render(valuesFile('defaults'));
    const api = deployment(docs, 'api');
    const worker = deployment(docs, 'worker');
    assert.deepEqual(container(api).command, ['node', 'dist/api/main.js']);
    assert.deepEqual(container(worker).command, ['node', 'dist/worker/main.js']);
    assert.equal(container(api).readinessProbe.httpGet.path, '/readyz');
    assert.equal(container(api).livenessProbe.httpGet.path, '/healthz');
    for (const d of [api, worker]) {
      const pod = d.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      const sc = container(d).securityContext;
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.deepEqual(sc.capabilities.drop, ['ALL']);
      assert.ok(pod.volumes.some((v: TemplateJson) => v.name === 'tmp' && v.emptyDir));
      assert.ok(container(d).volumeMounts.some((m: TemplateJson) => m.mountPath === '/tmp'));
      assert.ok(container(d).resources.requests.memory && container(d).resources.limits.memory);
      assert.equal(envOf(d).JIT_POLICY_DIR, '/etc/jit/policies');
      assert.equal(
        pod.volumes.find((v: TemplateJson) => v.name === 'policies').configMap.name,
        'jit-policies',
      );
    }
    assert.equal(api.spec.replicas, undefined, 'the HPA owns the API replica count');
    assert.equal(find(docs, 'HorizontalPodAutoscaler').length, 1);
    assert.deepEqual(
      find(docs, 'PodDisruptionBudget')
        .map((p) => p.metadata.name)
        .sort(),
      ['jit-jit-broker-api', 'jit-jit-broker-worker'],
    );
    const policies = find(docs, 'NetworkPolicy');
    assert.equal(policies.length, 2);
    // The worker takes connections on its metrics port only, so Prometheus can scrape it.
    assert.deepEqual(policies.find((p) => p.metadata.name.endsWith('-worker'))?.spec.ingress, [
      { ports: [{ port: 9464, protocol: 'TCP' }] },
    ]);
    const [sa] = find(docs, 'ServiceAccount');
    assert.equal(sa?.metadata.annotations, null);
    assert.equal(find(docs, 'Job').length, 0);
  });

  test('IRSA + Temporal Cloud: role annotation, API key from its Secret, TLS on, Slack, inline policies, hook Job', () => {
    const docs = render(valuesFile('irsa-cloud'));
    const [sa] = find(docs, 'ServiceAccount');
    assert.equal(
      sa?.metadata.annotations['eks.amazonaws.com/role-arn'],
      'arn:aws:iam::111111111111:role/jit-broker/jit-broker',
    );
    const api = deployment(docs, 'api');
    const env = envOf(api);
    assert.deepEqual(env.TEMPORAL_API_KEY, { secretKeyRef: { name: 'temporal-cloud', key: 'api-key' } });
    assert.equal(env.TEMPORAL_TLS, 'true');
    assert.deepEqual(env.PGPASSWORD, { secretKeyRef: { name: 'jit-broker-db', key: 'password' } });
    assert.deepEqual(env.SLACK_BOT_TOKEN, { secretKeyRef: { name: 'jit-broker-slack', key: 'bot-token' } });
    assert.equal(env.OIDC_AUDIENCE, 'api://jit-broker');
    assert.match(container(api).image, /@sha256:[0-9a-f]{64}$/);
    const [configMap] = find(docs, 'ConfigMap');
    assert.deepEqual(Object.keys(configMap?.data ?? {}).sort(), [
      'catalog.yaml',
      'policies.cedar',
      'schema.cedarschema',
    ]);
    assert.match(api.spec.template.metadata.annotations['checksum/policies'], /^[0-9a-f]{64}$/);
    const [job] = find(docs, 'Job');
    assert.equal(job?.metadata.annotations['helm.sh/hook'], 'post-install,post-upgrade');
    const pod = job?.spec.template.spec;
    const args = [...pod.initContainers, ...pod.containers].map((c: TemplateJson) => c.args.join(' '));
    assert.deepEqual(args, [
      'operator search-attribute create --address=$(TEMPORAL_ADDRESS) --namespace=$(TEMPORAL_NAMESPACE) --tls --api-key=$(TEMPORAL_API_KEY) --name=JitStatus --name=JitRole --name=JitRequester --type=Keyword',
      'operator search-attribute create --address=$(TEMPORAL_ADDRESS) --namespace=$(TEMPORAL_NAMESPACE) --tls --api-key=$(TEMPORAL_API_KEY) --name=JitExpiresAt --type=Datetime',
    ]);
    const apiPolicy = find(docs, 'NetworkPolicy', '-api')[0];
    assert.deepEqual(apiPolicy?.spec.ingress[0].from, [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
    ]);
  });

  test('self-hosted mTLS: client certificate, key and CA mounted from the Secret, paths in env', () => {
    const docs = render(valuesFile('mtls'));
    for (const component of ['api', 'worker'] as const) {
      const d = deployment(docs, component);
      const env = envOf(d);
      assert.equal(env.TEMPORAL_TLS, 'true');
      assert.equal(env.TEMPORAL_TLS_CERT, '/etc/jit/temporal-tls/tls.crt');
      assert.equal(env.TEMPORAL_TLS_KEY, '/etc/jit/temporal-tls/tls.key');
      assert.equal(env.TEMPORAL_TLS_CA, '/etc/jit/temporal-tls/ca.crt');
      assert.equal(env.TEMPORAL_TLS_SERVER_NAME, 'frontend.temporal.internal');
      assert.equal(env.TEMPORAL_API_KEY, undefined);
      // IAM in every target account goes through its ledger writer.
      assert.equal(env.JIT_LEDGER_WRITER_ROLE, 'jit-broker/jit-ledger-writer');
      const volume = d.spec.template.spec.volumes.find((v: TemplateJson) => v.name === 'temporal-tls');
      assert.equal(volume.secret.secretName, 'temporal-client-tls');
    }
    const [job] = find(docs, 'Job');
    assert.match(
      job?.spec.template.spec.containers[0].args.join(' '),
      /--tls-cert-path=\S+ --tls-key-path=\S+ --tls-ca-path=\S+ --tls-server-name=frontend.temporal.internal --name=JitExpiresAt/,
    );
  });

  test('autoscaling off: a fixed API replica count and no HPA', () => {
    const docs = render(valuesFile('no-autoscaling'));
    assert.equal(deployment(docs, 'api').spec.replicas, 3);
    assert.equal(find(docs, 'HorizontalPodAutoscaler').length, 0);
    assert.equal(envOf(deployment(docs, 'api')).OIDC_GROUPS_CLAIM, 'cognito:groups');
  });

  test('a missing image, issuer or policy source stops the render with what to set', () => {
    const fails = (set: string[], message: RegExp) => {
      const { status, out } = run(helm, [
        'template',
        'jit',
        chart,
        '-f',
        valuesFile('defaults'),
        ...set.flatMap((s) => ['--set', s]),
      ]);
      assert.notEqual(status, 0);
      assert.match(out, message);
    };
    fails(['image.repository='], /image\.repository is required/);
    fails(['config.oidc.issuer='], /config\.oidc\.issuer is required/);
    fails(['policies.existingConfigMap='], /set policies\.existingConfigMap or policies\.files/);
  });

  test('kube-score does flag a weakened pod (the linter really runs)', () => {
    const docs = render(valuesFile('defaults'));
    const api = deployment(docs, 'api');
    delete container(api).securityContext.readOnlyRootFilesystem;
    delete container(api).resources.limits;
    const findings = kubeScoreFindings(docs, 'weakened');
    assert.ok(
      findings.some((f) => /writable root filesystem/.test(f)),
      findings.join('\n'),
    );
    assert.ok(
      findings.some((f) => /limit/i.test(f)),
      findings.join('\n'),
    );
  });
});
