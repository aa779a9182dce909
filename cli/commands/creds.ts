// Using a grant: credential_process JSON (cached), shell exports, the console sign-in URL.
import { openBrowser } from '../browser.js';
import { type Command, type Context, flag, grantIdArg } from '../command.js';
import { type CacheKey, dropGrant, readEntry, withLock, writeEntries } from '../creds-cache.js';
import { ApiRefusal, CliError, exitCodes, notLoggedIn, Unreachable } from '../errors.js';
import { type GrantListItem, type GrantView, progress } from '../grants.js';
import { note, out, printJson, relativeTime } from '../output.js';
import { providedToken } from '../provided-token.js';
import { jwtClaims, readTokens } from '../tokens.js';
import { newestFirst } from './requests.js';

interface ProcessCredentials {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** How long a cached answer waits for the API's word that the grant is still active. */
const STATUS_TIMEOUT_MS = 2500;

const cacheHelp = `Answers from a cache ($XDG_CONFIG_HOME/jit/cache/, files 0600) until 5 minutes before
the credentials expire (credsRefreshMargin, JIT_CREDS_REFRESH_MARGIN), so the AWS CLI, which runs
it for every command, reuses one STS session. A cached answer first asks the API whether the grant
is still active: if it has ended, the cache is deleted and the command fails saying why; only when
the API cannot be reached does the cached answer stand (until the credentials expire).

  --role ROLE   use your newest active grant for ROLE
  --no-cache    mint new credentials (and cache those)`;

const cacheOptions = { role: { type: 'string' }, 'no-cache': { type: 'boolean' } } as const;

export const creds: Command = {
  name: 'creds',
  summary: 'AWS credentials for an active grant, as credential_process JSON',
  help: `Usage: jit creds ID [--no-cache]
       jit creds --role ROLE [--no-cache]

Prints only the credential_process JSON on stdout, for ~/.aws/config:

  [profile prod-admin]
  credential_process = jit creds --role prod-admin

${cacheHelp}`,
  options: cacheOptions,
  args: [0, 1],
  async run(ctx) {
    process.stdout.write(await credentialsFor(ctx));
    return undefined;
  },
};

export const env: Command = {
  name: 'env',
  summary: 'AWS credentials for an active grant as shell exports',
  help: `Usage: jit env ID [--no-cache]
       jit env --role ROLE [--no-cache]

  eval "$(jit env --role prod-admin)"

Uses the same cache as \`jit creds\`.

  --role ROLE   use your newest active grant for ROLE
  --no-cache    mint new credentials (and cache those)`,
  options: cacheOptions,
  args: [0, 1],
  async run(ctx) {
    const c = JSON.parse(await credentialsFor(ctx)) as ProcessCredentials;
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
    const key = cacheKey(ctx);
    const id = 'grant' in key ? key.grant : await activeGrantFor(ctx, key.role, await mySub(ctx));
    let body: { url: string; expiresAt: string };
    try {
      body = await ctx.api.post<{ url: string; expiresAt: string }>(`/v1/requests/${id}/console`);
    } catch (err) {
      if (err instanceof ApiRefusal && err.code === 'federation_failed') {
        throw new CliError(
          `no console sign-in URL: the broker could not get a sign-in token from AWS federation (${err.apiMessage}). ` +
            'Try again later; `jit creds` and `jit env` still give command-line access.',
        );
      }
      if (err instanceof ApiRefusal && err.code === 'grant_not_active') throw await notActive(ctx, id, err);
      throw err;
    }
    if (ctx.json) printJson(body);
    else out(body.url);
    if (ctx.values.open) openBrowser(body.url);
    return undefined;
  },
};

/** The grant an ID names, or the role of `--role`. */
function cacheKey(ctx: Context): CacheKey {
  const role = flag(ctx, 'role');
  const hasId = ctx.positionals.length > 0;
  if (hasId === (role !== undefined)) ctx.usage('give either a grant ID or --role ROLE');
  return role === undefined ? { grant: grantIdArg(ctx) } : { role };
}

/**
 * Whose cache entries to use: the subject of the token a script passes, else of the login. Unverified
 * and without refreshing: the API checks the token on every call.
 */
async function mySub(ctx: Context): Promise<string> {
  const provided = providedToken(ctx.config);
  const token = provided ? await provided : readTokens(ctx.config)?.access_token;
  if (!token) throw notLoggedIn();
  return String(jwtClaims(token).sub);
}

/** credential_process JSON for the grant or role the command names, from the cache when it may. */
async function credentialsFor(ctx: Context): Promise<string> {
  const key = cacheKey(ctx);
  const sub = await mySub(ctx);
  const { config } = ctx;
  return withLock(config, key, async () => {
    let grantId = 'grant' in key ? key.grant : undefined;
    const entry = ctx.values['no-cache'] ? undefined : readEntry(config, key, sub);
    if (entry) {
      const verdict = await checkCached(ctx, entry.grantId, Date.parse(entry.expiration));
      if (verdict.use) return entry.credentials;
      if (verdict.ended) {
        // Said once, in so many words, rather than switching to another grant unannounced: the
        // next call finds the current active grant of the role, if there is one.
        dropGrant(config, entry.grantId);
        const next = 'role' in key ? `\`jit request ${key.role}\`` : '`jit request`';
        throw new CliError(
          `${verdict.ended}; its cached credentials are deleted. Run ${next} for new access.`,
          exitCodes.negative,
        );
      }
      grantId = entry.grantId;
    }
    grantId ??= await activeGrantFor(ctx, (key as { role: string }).role, sub);
    const raw = await mint(ctx, grantId);
    const { Expiration } = JSON.parse(raw) as ProcessCredentials;
    const keys: CacheKey[] = 'role' in key ? [key, { grant: grantId }] : [key];
    writeEntries(config, keys, {
      apiUrl: config.apiUrl,
      sub,
      grantId,
      credentials: raw,
      expiration: Expiration,
      savedAt: new Date().toISOString(),
    });
    return raw;
  });
}

/**
 * Whether cached credentials of `grantId` may answer: the grant must still be active (the API says
 * so), and they must not be due for renewal. Without an answer from the API they stand until expiry.
 */
async function checkCached(
  ctx: Context,
  grantId: string,
  expiresAt: number,
): Promise<{ use?: true; ended?: string }> {
  let view: GrantView;
  try {
    view = await ctx.api.get<GrantView>(`/v1/requests/${grantId}`, undefined, {
      timeoutMs: STATUS_TIMEOUT_MS,
      attempts: 1,
    });
  } catch (err) {
    if (err instanceof Unreachable && expiresAt > Date.now()) {
      note(
        `jit: the jit API at ${ctx.config.apiUrl} is not reachable; answering from the cache (credentials of ${grantId}, expiring ${relativeTime(new Date(expiresAt).toISOString())})`,
      );
      return { use: true };
    }
    if (err instanceof ApiRefusal && err.code === 'not_found')
      return { ended: `${grantId} no longer exists` };
    throw err;
  }
  if (view.status !== 'active') return { ended: `${grantId} has ended (${progress(view)})` };
  const now = Date.now();
  // Credentials that already last until the grant's end cannot be renewed into longer ones (STS
  // times have whole seconds, the grant's may not).
  const untilGrantEnd = view.expiresAt !== undefined && expiresAt >= Date.parse(view.expiresAt) - 1000;
  if (expiresAt - now > ctx.config.credsRefreshMarginSeconds * 1000 || (untilGrantEnd && expiresAt > now)) {
    return { use: true };
  }
  return {};
}

async function mint(ctx: Context, id: string): Promise<string> {
  try {
    return await ctx.api.postRaw(`/v1/requests/${id}/credentials`);
  } catch (err) {
    if (err instanceof ApiRefusal && err.code === 'grant_not_active') throw await notActive(ctx, id, err);
    throw err;
  }
}

/** "grant-X is not active (revoked by bob: done)", exit 3; the API's words if the grant cannot be read. */
async function notActive(ctx: Context, id: string, refusal: ApiRefusal): Promise<CliError> {
  let where = refusal.apiMessage;
  try {
    where = progress(await ctx.api.get<GrantView>(`/v1/requests/${id}`, undefined, { attempts: 1 }));
  } catch {}
  return new CliError(
    `${id} is not active (${where}); see \`jit status ${id}\`, or \`jit request\` a new grant`,
    exitCodes.negative,
  );
}

/** The caller's newest active grant for `role`. */
async function activeGrantFor(ctx: Context, role: string, sub: string): Promise<string> {
  // Credentials are only ever the caller's own: the list asks for the caller's grants only.
  const { requests } = await ctx.api.get<{ requests: GrantListItem[] }>('/v1/requests', {
    status: 'active',
    role,
    requester: sub,
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

/** POSIX single quotes: nothing inside is special but the quote itself. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
