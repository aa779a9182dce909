// Where the CLI finds the API and the issuer: flag, then env, then ~/.config/jit/config.json, then the local stack.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.js';

export interface CliConfig {
  apiUrl: string;
  issuer: string;
  /** Holds config.json and the token cache. */
  dir: string;
  /** `--token-file` or JIT_TOKEN_FILE: a token for scripts and CI (cli/provided-token.ts). */
  tokenFile?: string;
}

interface ConfigFile {
  apiUrl?: string;
  issuer?: string;
}

export const CLIENT_ID = 'jit-cli';
const DEFAULT_API_URL = 'http://127.0.0.1:8080';
const DEFAULT_ISSUER = 'http://127.0.0.1:4444';

export function configDir(env = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'jit');
}

export function loadConfig(
  flags: { api?: string | undefined; issuer?: string | undefined; tokenFile?: string | undefined },
  env = process.env,
): CliConfig {
  const dir = configDir(env);
  const file = readConfigFile(join(dir, 'config.json'));
  const tokenFile = flags.tokenFile || env.JIT_TOKEN_FILE;
  return {
    apiUrl: url('API URL', flags.api || env.JIT_API_URL || file.apiUrl || DEFAULT_API_URL),
    issuer: url('issuer URL', flags.issuer || env.JIT_OIDC_ISSUER || file.issuer || DEFAULT_ISSUER),
    dir,
    ...(tokenFile ? { tokenFile } : {}),
  };
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') return parsed as ConfigFile;
  } catch {}
  throw new CliError(`${path} is not a JSON object like {"apiUrl": "...", "issuer": "..."}`);
}

function url(what: string, value: string): string {
  if (!URL.canParse(value)) throw new CliError(`${what} "${value}" is not a URL`);
  // Paths are appended to it, so no trailing slash.
  return value.replace(/\/+$/, '');
}
