// The dev issuer's users. DEV ONLY: each password is the username and
// sits in source control, which is why the issuer refuses to run with NODE_ENV=production.

export interface DevUser {
  /** Stable OIDC subject; the broker keys grants on it (JitRequester). */
  sub: string;
  username: string;
  name: string;
  email: string;
  email_verified: true;
  groups: readonly string[];
  password: string;
}

function devUser(username: string, name: string, groups: string[]): DevUser {
  return {
    sub: username,
    username,
    name,
    email: `${username}@example.test`,
    email_verified: true,
    groups,
    password: username,
  };
}

export const devUsers: readonly DevUser[] = [
  devUser('alice', 'Alice Engineer', ['engineers']),
  devUser('bob', 'Bob Reviewer', ['reviewers']),
  devUser('carol', 'Carol Reviewer', ['reviewers']),
  devUser('dave', 'Dave Auditor', ['auditors']),
  devUser('erin', 'Erin On-Call', ['engineers', 'oncall']),
];

export function findDevUser(username: string): DevUser | undefined {
  return devUsers.find((user) => user.username === username);
}
