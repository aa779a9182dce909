// Using a grant: credential_process JSON, shell exports, the console sign-in URL.
import { spawn } from 'node:child_process';
import { type Command, type Context, flag, grantIdArg } from '../command.js';
import { ApiRefusal, CliError, exitCodes } from '../errors.js';
import type { GrantListItem } from '../grants.js';
import { out, printJson } from '../output.js';
import { accessToken, jwtClaims } from '../tokens.js';
import { newestFirst } from './requests.js';

interface ProcessCredentials {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

export const creds: Command = {
  name: 'creds',
  summary: 'AWS credentials for an active grant, as credential_process JSON',
  help: `Usage: jit creds ID
       jit creds --role ROLE

Prints only the credential_process JSON on stdout, for ~/.aws/config:

  [profile prod-admin]
  credential_process = jit creds --role prod-admin

  --role ROLE   use your newest active grant for ROLE`,
  options: { role: { type: 'string' } },
  args: [0, 1],
  async run(ctx) {
    const id = await grantFor(ctx);
    process.stdout.write(await credentialsOf(ctx, id));
    return undefined;
  },
};

export const env: Command = {
  name: 'env',
  summary: 'AWS credentials for an active grant as shell exports',
  help: `Usage: jit env ID
       jit env --role ROLE

  eval "$(jit env --role prod-admin)"`,
  options: { role: { type: 'string' } },
  args: [0, 1],
  async run(ctx) {
    const c = JSON.parse(await credentialsOf(ctx, await grantFor(ctx))) as ProcessCredentials;
    out(`export AWS_ACCESS_KEY_ID=${shellQuote(c.AccessKeyId)}`);
    out(`export AWS_SECRET_ACCESS_KEY=${shellQuote(c.SecretAccessKey)}`);
    out(`export AWS_SESSION_TOKEN=${shellQuote(c.SessionToken)}`);
    out(`export AWS_CREDENTIAL_EXPIRATION=${shellQuote(c.Expiration)}`);
    return undefined;
  },
};

export const consoleCommand: Command = {
  name: 'console',
  summary: 'an AWS console sign-in URL for an active grant',
  help: `Usage: jit console ID [--open]
       jit console --role ROLE [--open]

  --open   also open it in your browser`,
  options: { role: { type: 'string' }, open: { type: 'boolean' } },
  args: [0, 1],
  async run(ctx) {
    const id = await grantFor(ctx);
    const body = await ctx.api.post<{ url: string; expiresAt: string }>(`/v1/requests/${id}/console`);
    if (ctx.json) printJson(body);
    else out(body.url);
    if (ctx.values.open) openBrowser(body.url);
    return undefined;
  },
};

/** The grant an ID names, or the caller's newest active grant for `--role`. */
async function grantFor(ctx: Context): Promise<string> {
  const role = flag(ctx, 'role');
  const hasId = ctx.positionals.length > 0;
  if (hasId === (role !== undefined)) ctx.usage('give either a grant ID or --role ROLE');
  if (role === undefined) return grantIdArg(ctx);
  const me = String(jwtClaims(await accessToken(ctx.config)).sub);
  // Credentials are only ever the caller's own, so the list asks for the caller's grants only.
  const { requests } = await ctx.api.get<{ requests: GrantListItem[] }>('/v1/requests', {
    status: 'active',
    role,
    requester: me,
  });
  const grant = newestFirst(requests)[0];
  if (!grant) {
    throw new CliError(
      `no active grant for ${role}: run \`jit request ${role} --for 1h --reason "..." --wait\` first`,
      exitCodes.negative,
    );
  }
  return grant.id;
}

async function credentialsOf(ctx: Context, id: string): Promise<string> {
  try {
    return await ctx.api.postRaw(`/v1/requests/${id}/credentials`);
  } catch (err) {
    if (err instanceof ApiRefusal && err.code === 'grant_not_active') {
      throw new CliError(
        `${err.code}: ${err.apiMessage}; check it with \`jit status ${id}\`, or \`jit request\` a new grant`,
      );
    }
    throw err;
  }
}

/** POSIX single quotes: nothing inside is special but the quote itself. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function openBrowser(url: string): void {
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    // No browser is not an error: the URL is already printed.
    child.on('error', () => {});
    child.unref();
  } catch {}
}
