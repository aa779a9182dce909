// Tokens for scripts and CI, where nobody can log in: from `--token-file`, JIT_TOKEN_FILE, JIT_TOKEN,
// or the GitHub Actions OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, present in a
// job with `permissions: id-token: write`). Never a prompt, never the device flow: without one of
// these the cached login is used, and without that the command fails with exit code 2.
import { readFileSync } from 'node:fs';
import type { CliConfig } from './config.js';
import { CliError, exitCodes } from './errors.js';

/** The audience asked of GitHub Actions: what the broker's issuer entry for it expects. */
export const DEFAULT_TOKEN_AUDIENCE = 'jit-broker';

export type TokenSource = 'token file' | 'JIT_TOKEN' | 'GitHub Actions';

/** Where this invocation's token comes from, or undefined for the cached login. */
export function providedTokenSource(config: CliConfig, env = process.env): TokenSource | undefined {
  if (config.tokenFile) return 'token file';
  if (env.JIT_TOKEN) return 'JIT_TOKEN';
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) return 'GitHub Actions';
  return undefined;
}

const cache = new Map<string, Promise<string>>();

/** The provided token, or undefined when none is: then the cached login applies. */
export function providedToken(config: CliConfig, env = process.env): Promise<string> | undefined {
  const source = providedTokenSource(config, env);
  if (!source) return undefined;
  let token = cache.get(source);
  if (!token) {
    token = fetchToken(source, config, env);
    cache.set(source, token);
  }
  return token;
}

async function fetchToken(source: TokenSource, config: CliConfig, env: NodeJS.ProcessEnv): Promise<string> {
  if (source === 'token file') {
    let text: string;
    try {
      text = readFileSync(config.tokenFile as string, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read the token file: ${(err as Error).message}`, exitCodes.login);
    }
    return nonEmpty(text, 'the token file');
  }
  if (source === 'JIT_TOKEN') return nonEmpty(env.JIT_TOKEN ?? '', 'JIT_TOKEN');
  // GitHub Actions: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=..., bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN.
  const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL as string);
  url.searchParams.set('audience', env.JIT_TOKEN_AUDIENCE || DEFAULT_TOKEN_AUDIENCE);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`, accept: 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new CliError('the GitHub Actions token endpoint is not reachable', exitCodes.login);
  }
  if (!response.ok)
    throw new CliError(
      `the GitHub Actions token endpoint answered HTTP ${response.status} (does the job have id-token: write?)`,
      exitCodes.login,
    );
  const body = (await response.json().catch(() => ({}))) as { value?: unknown };
  if (typeof body.value !== 'string')
    throw new CliError('the GitHub Actions token endpoint sent no token', exitCodes.login);
  return nonEmpty(body.value, 'the GitHub Actions token');
}

function nonEmpty(text: string, what: string): string {
  const token = text.trim();
  if (!token) throw new CliError(`${what} is empty`, exitCodes.login);
  return token;
}
