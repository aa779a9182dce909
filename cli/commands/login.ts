// Identity: device-flow login, logout, and who the cached token says you are.
import { interactive, offerToOpen } from '../browser.js';
import type { Command } from '../command.js';
import { wipe } from '../creds-cache.js';
import { CliError, exitCodes } from '../errors.js';
import { audienceParameters, discoverIssuer, issuerRefusal, openidClient } from '../oidc.js';
import { note, out, printJson, relativeTime } from '../output.js';
import { accessToken, deleteTokens, jwtClaims, readTokens, saveTokens } from '../tokens.js';

export const login: Command = {
  name: 'login',
  summary: 'log in through your browser (OIDC device flow)',
  help: `Usage: jit login [--no-browser]

Shows a URL and a code; open the URL, check the code, sign in. At a terminal it offers to open the
URL in your browser (press Enter); --no-browser skips the offer. The tokens are cached in
$XDG_CONFIG_HOME/jit/tokens.json (mode 0600) and refreshed as needed. The issuer, the CLI's client
id, the scopes and the audience are settings: \`jit config list\` shows them.

  --no-browser   do not offer to open the browser`,
  options: { 'no-browser': { type: 'boolean' } },
  async run({ config, values }) {
    const oidc = await discoverIssuer(config);
    const { initiateDeviceAuthorization, pollDeviceAuthorizationGrant } = await openidClient();
    let authorization: Awaited<ReturnType<typeof initiateDeviceAuthorization>>;
    try {
      authorization = await initiateDeviceAuthorization(oidc, {
        scope: config.scopes,
        ...audienceParameters(config),
      });
    } catch (err) {
      throw issuerRefusal(err, config) ?? err;
    }
    const url = authorization.verification_uri_complete ?? authorization.verification_uri;
    note(`To log in, open this URL and confirm the code ${authorization.user_code}:`);
    note(`  ${url}`);
    if (authorization.verification_uri_complete) {
      note(`(or go to ${authorization.verification_uri} and enter the code)`);
    }
    // Polling goes on meanwhile: the login may well happen on another device.
    const withdraw = !values['no-browser'] && interactive() ? offerToOpen(url, 'it') : () => {};
    note('Waiting for you to log in...');
    let response: Awaited<ReturnType<typeof pollDeviceAuthorizationGrant>>;
    try {
      // Honours the issuer's interval and slow_down; gives up when the device code expires.
      response = await pollDeviceAuthorizationGrant(oidc, authorization, audienceParameters(config));
    } catch (err) {
      const code = (err as { error?: string }).error;
      if (code === 'expired_token') throw new CliError('the login code expired: run `jit login` again');
      if (code === 'access_denied') throw new CliError('the login was refused in the browser');
      throw issuerRefusal(err, config) ?? err;
    } finally {
      withdraw();
    }
    const tokens = saveTokens(config, response);
    const claims = jwtClaims(tokens.access_token);
    note(`logged in as ${String(claims.email ?? claims.sub)}`);
    return exitCodes.ok;
  },
};

export const logout: Command = {
  name: 'logout',
  summary: 'forget the cached tokens and credentials',
  help: `Usage: jit logout

Deletes the cached tokens and every cached AWS credential (\`jit creds\`); the next command needs
\`jit login\`. Credentials already handed to a program stay valid until they expire or their grant
ends.`,
  async run({ config }) {
    const hadCredentials = wipe(config);
    const hadTokens = deleteTokens(config);
    note(
      hadTokens || hadCredentials
        ? `logged out${hadCredentials ? '; cached credentials deleted' : ''}`
        : 'not logged in',
    );
    return exitCodes.ok;
  },
};

export const whoami: Command = {
  name: 'whoami',
  summary: 'who you are logged in as, your groups, when the session ends',
  help: 'Usage: jit whoami [--json]',
  async run({ config, json }) {
    // Refreshes first, so the expiry shown is that of the token the next command will use.
    const claims = jwtClaims(await accessToken(config));
    const groups = Array.isArray(claims.groups) ? claims.groups.map(String) : [];
    const expiresAt = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : undefined;
    const who = { sub: claims.sub, email: claims.email, groups, expiresAt, issuer: config.issuer };
    if (json) {
      printJson(who);
    } else {
      out(`sub      ${String(claims.sub)}`);
      if (claims.email) out(`email    ${String(claims.email)}`);
      out(`groups   ${groups.join(', ') || '-'}`);
      out(
        `expires  ${relativeTime(expiresAt)}${readTokens(config)?.refresh_token ? ' (refreshed automatically)' : ''}`,
      );
    }
    return exitCodes.ok;
  },
};
