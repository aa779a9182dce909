// Keeps policies/catalog.yaml in step with the CDK app: every catalog role must name a role the app
// creates (path /jit/, a name from targets.roles, an account from targets.accounts) with the same
// MaxSessionDuration. `npm run cdk:check-catalog [-- <catalog.yaml>]`; exit 1 lists every mismatch.
//
// A check rather than generated ARNs: the catalog stays the one file reviewers read, and a role the
// app would have to invent (typo, removed role, wrong account) is refused before it reaches the broker.
import { join } from 'node:path';
import { loadCatalog } from '../../policies/catalog.js';
import type { CatalogRole } from '../../policies/types.js';
import { repoRoot } from '../paths.js';
import { type DeployConfig, loadDeployConfig } from './config.js';
import { TARGET_ROLE_PATH } from './names.js';

const ARN = /^arn:([\w-]+):iam::(\d{12}):role(\/.*\/|\/)([^/]+)$/;

/** Every way the catalog's roles differ from what the app deploys; empty when in step. */
export function catalogProblems(roles: CatalogRole[], config: DeployConfig): string[] {
  const { partition, targets } = config;
  const byName = new Map(targets.roles.map((r) => [r.name, r]));
  const problems: string[] = [];
  for (const role of roles) {
    const say = (message: string) => problems.push(`role "${role.id}" (${role.arn}): ${message}`);
    const match = ARN.exec(role.arn);
    if (!match) {
      say('not an IAM role ARN');
      continue;
    }
    const [, arnPartition, account, path, name] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    const defined = byName.get(name);
    if (arnPartition !== partition) say(`partition "${arnPartition}", the app deploys to "${partition}"`);
    if (path !== TARGET_ROLE_PATH)
      say(`path "${path}", the app creates target roles under "${TARGET_ROLE_PATH}"`);
    if (!targets.accounts.includes(account)) {
      say(`account ${account} is not in the app's targets.accounts (${targets.accounts.join(', ')})`);
    }
    if (!defined) {
      say(`the app defines no role "${name}" (targets.roles: ${[...byName.keys()].join(', ')})`);
    } else if (defined.maxSessionSeconds !== role.roleMaxSessionSeconds) {
      say(
        `roleMaxSessionSeconds ${role.roleMaxSessionSeconds}, the app sets MaxSessionDuration ${defined.maxSessionSeconds}`,
      );
    }
  }
  return problems;
}

if (process.argv[1] === import.meta.filename) {
  const policyDir = process.env.JIT_POLICY_DIR ?? join(repoRoot, 'policies');
  const file = process.argv[2] ?? join(policyDir, 'catalog.yaml');
  const problems = catalogProblems(loadCatalog(file).roles, loadDeployConfig());
  if (problems.length > 0) {
    process.stderr.write(`${file} names roles the CDK app does not create:\n`);
    for (const problem of problems) process.stderr.write(`  ${problem}\n`);
    process.exit(1);
  }
  process.stdout.write(`${file}: every role is one the CDK app creates\n`);
}
