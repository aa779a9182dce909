// The directory file (activities/directory.ts) for the dev users, so Slack reviewers map to them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { devUsers } from './dev-users.js';

export function writeDevDirectory(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const users = devUsers.map((u) => ({ sub: u.sub, email: u.email, groups: [...u.groups] }));
  writeFileSync(path, `# Written by npm start from infra/oidc/dev-users.ts.\n${stringify({ users })}`);
  return path;
}
