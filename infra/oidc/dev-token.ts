// Prints a dev user's or dev workload client's API access token and nothing else on stdout:
//   TOKEN=$(npm run --silent dev-token -- alice)        # device flow, as alice
//   TOKEN=$(npm run --silent dev-token -- ci-deployer)  # client credentials, a pipeline
// The issuer: OIDC_ISSUER, else OIDC_HOST/OIDC_PORT, else the one the running `npm start` wrote to
// .data/stack.json, else http://127.0.0.1:4444.
// Exit codes: 2 unknown name, 1 anything else (issuer down, NODE_ENV=production, login failure).
import { readStackInfo, stackFile } from '../stack-info.js';
import { clientCredentialsToken, devClients, findDevClient } from './dev-clients.js';
import { devUsers, findDevUser } from './dev-users.js';
import { deviceLogin, IssuerUnreachableError } from './device-login.js';

function fail(code: number, message: string): never {
  process.stderr.write(`dev-token: ${message}\n`);
  process.exit(code);
}

if (process.env.NODE_ENV === 'production') {
  fail(1, 'dev tokens exist only on the local dev stack; refusing to run with NODE_ENV=production');
}

const user = process.argv[2];
if (!user || !(findDevUser(user) || findDevClient(user))) {
  const known = [...devUsers.map((u) => u.username), ...devClients.map((c) => c.clientId)].join(', ');
  fail(
    2,
    `${user ? `unknown dev user or client "${user}"` : 'missing user'}; usage: dev-token <name>, one of: ${known}`,
  );
}

const { OIDC_ISSUER, OIDC_HOST, OIDC_PORT } = process.env;
const stack = OIDC_ISSUER || OIDC_HOST || OIDC_PORT ? undefined : readStackInfo();
const issuer = OIDC_ISSUER || stack?.oidcIssuer || `http://${OIDC_HOST || '127.0.0.1'}:${OIDC_PORT || 4444}`;
try {
  const token = findDevClient(user)
    ? await clientCredentialsToken(issuer, user)
    : (await deviceLogin({ issuer, user })).access_token;
  process.stdout.write(`${token}\n`);
} catch (err) {
  if (err instanceof IssuerUnreachableError) {
    fail(
      1,
      stack
        ? `${err.message} (from ${stackFile}; is \`npm start\` still running?)`
        : `${err.message}; start the local stack with \`npm start\` first`,
    );
  }
  fail(1, err instanceof Error ? err.message : String(err));
}
