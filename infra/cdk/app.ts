// The CDK app: `npm run cdk:synth` writes the templates to .cache/cdk.out (or $CDK_OUTDIR, which
// the CDK CLI sets), with cdk-nag's AwsSolutions pack as a synth-time validation. No AWS account
// is needed to synthesize.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CliCredentialsStackSynthesizer, Validations } from 'aws-cdk-lib';
import nag from 'cdk-nag';
import { cacheDir } from '../paths.js';
import { type DeployConfig, loadDeployConfig } from './config.js';
import { JitBrokerStack, JitOrgStack, JitTargetsStack } from './stacks.js';

export const STACK_NAMES = { broker: 'JitBroker', targets: 'JitTargets', org: 'JitOrg' } as const;

// No bootstrap stack needed: the stacks have no assets, and the CLI deploys with its own credentials.
const synthesizer = () => new CliCredentialsStackSynthesizer();

/** The target-roles template as the StackSet deploys it, synthesized on its own. */
export function targetsTemplate(config: DeployConfig): object {
  const outdir = mkdtempSync(join(tmpdir(), 'jit-cdk-targets-'));
  try {
    const app = new App({ outdir, analyticsReporting: false });
    new JitTargetsStack(app, STACK_NAMES.targets, { config, synthesizer: synthesizer() });
    return app.synth().getStackByName(STACK_NAMES.targets).template as object;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export interface JitApp {
  app: App;
  broker: JitBrokerStack;
  targets: JitTargetsStack;
  org: JitOrgStack;
  nag: nag.AwsSolutionsChecks;
}

/** Builds the app; `validate` makes synth fail on any unacknowledged cdk-nag error. */
export function buildApp(config: DeployConfig, opts: { outdir?: string; validate?: boolean } = {}): JitApp {
  const app = new App({ analyticsReporting: false, ...(opts.outdir ? { outdir: opts.outdir } : {}) });
  const env = (account: string) => ({ account, region: config.region });
  const broker = new JitBrokerStack(app, STACK_NAMES.broker, {
    config,
    env: env(config.brokerAccount),
    synthesizer: synthesizer(),
    description: 'jit-broker: the broker role (web identity), its secrets and database',
  });
  // Account-agnostic: deployable by hand in one account; the StackSet deploys the same template.
  const targets = new JitTargetsStack(app, STACK_NAMES.targets, {
    config,
    synthesizer: synthesizer(),
  });
  const org = new JitOrgStack(app, STACK_NAMES.org, {
    config,
    targetsTemplate: targetsTemplate(config),
    env: env(config.orgAccount),
    synthesizer: synthesizer(),
    description: 'jit-broker: service-managed StackSet of the target roles',
  });
  const checks = new nag.AwsSolutionsChecks(app);
  if (opts.validate !== false) Validations.of(app).addPlugins(checks);
  return { app, broker, targets, org, nag: checks };
}

if (process.argv[1] === import.meta.filename) {
  const outdir = process.env.CDK_OUTDIR ?? join(cacheDir, 'cdk.out');
  const { app } = buildApp(loadDeployConfig(), { outdir });
  const assembly = app.synth();
  for (const stack of assembly.stacks) process.stdout.write(`${join(outdir, stack.templateFile)}\n`);
}
