// Where the CLI's settings come from: flag, then env, then $XDG_CONFIG_HOME/jit/config.json, then the
// local stack's defaults. `jit config` reads and writes the file.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './errors.js';

export interface CliConfig {
  apiUrl: string;
  issuer: string;
  /** OIDC client id of the CLI at the issuer (a public client with the device flow). */
  clientId: string;
  /** Space-separated scopes asked for at login. */
  scopes: string;
  /** The API's audience, when the issuer needs to be told (`audience` and RFC 8707 `resource`). */
  audience?: string;
  /** `jit creds` mints new credentials this long before the cached ones expire. */
  credsRefreshMarginSeconds: number;
  /** Holds config.json, the token cache and the credentials cache. */
  dir: string;
  /** `--token-file` or JIT_TOKEN_FILE: a token for scripts and CI (cli/provided-token.ts). */
  tokenFile?: string;
}

/** Every setting: its key in config.json, its environment variable, its default. */
export const settings = {
  apiUrl: { env: 'JIT_API_URL', fallback: 'http://127.0.0.1:8080', about: 'broker API URL' },
  issuer: { env: 'JIT_OIDC_ISSUER', fallback: 'http://127.0.0.1:4444', about: 'OIDC issuer URL' },
  oidcClientId: { env: 'JIT_OIDC_CLIENT_ID', fallback: 'jit-cli', about: 'OIDC client id of the CLI' },
  oidcScopes: {
    env: 'JIT_OIDC_SCOPES',
    fallback: 'openid profile email groups offline_access',
    about: 'scopes asked for at login (offline_access: stay logged in)',
  },
  oidcAudience: {
    env: 'JIT_OIDC_AUDIENCE',
    fallback: undefined,
    about: "the API's audience, if the issuer needs it in the login request",
  },
  credsRefreshMargin: {
    env: 'JIT_CREDS_REFRESH_MARGIN',
    fallback: '5m',
    about: 'jit creds renews cached credentials this long before they expire',
  },
} as const satisfies Record<string, { env: string; fallback: string | undefined; about: string }>;

export type SettingKey = keyof typeof settings;
export const settingKeys = Object.keys(settings) as SettingKey[];
export type ConfigFile = Partial<Record<SettingKey, string>>;

export type Source = 'flag' | 'env' | 'file' | 'default';
export interface Resolved {
  value: string | undefined;
  source: Source;
}

export function configDir(env = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'jit');
}

export const configFilePath = (dir: string) => join(dir, 'config.json');

/** A setting's value and where it came from. */
export function resolveSetting(
  key: SettingKey,
  flags: Partial<Record<SettingKey, string>>,
  file: ConfigFile,
  env = process.env,
): Resolved {
  const flag = flags[key];
  if (flag) return { value: flag, source: 'flag' };
  const fromEnv = env[settings[key].env];
  if (fromEnv) return { value: fromEnv, source: 'env' };
  const fromFile = file[key];
  if (fromFile) return { value: fromFile, source: 'file' };
  return { value: settings[key].fallback, source: 'default' };
}

export function loadConfig(
  flags: { api?: string | undefined; issuer?: string | undefined; tokenFile?: string | undefined },
  env = process.env,
): CliConfig {
  const dir = configDir(env);
  const tokenFile = flags.tokenFile || env.JIT_TOKEN_FILE;
  const file = readConfigFile(configFilePath(dir));
  const given = { apiUrl: flags.api, issuer: flags.issuer };
  const get = (key: SettingKey) => resolveSetting(key, given, file, env).value;
  const audience = get('oidcAudience');
  return {
    apiUrl: checkSetting('apiUrl', get('apiUrl') as string),
    issuer: checkSetting('issuer', get('issuer') as string),
    clientId: checkSetting('oidcClientId', get('oidcClientId') as string),
    scopes: checkSetting('oidcScopes', get('oidcScopes') as string),
    ...(audience ? { audience } : {}),
    credsRefreshMarginSeconds: parseMargin(get('credsRefreshMargin') as string),
    dir,
    ...(tokenFile ? { tokenFile } : {}),
  };
}

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as ConfigFile;
  } catch {}
  throw new CliError(`${path} is not a JSON object like {"apiUrl": "...", "issuer": "..."}`);
}

/** Writes config.json (0600 in a 0700 folder: it sits next to the token cache). */
export function writeConfigFile(dir: string, file: ConfigFile): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = configFilePath(dir);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Checks one value the way loadConfig will use it; returns it normalised. */
export function checkSetting(key: SettingKey, value: string): string {
  switch (key) {
    case 'apiUrl':
    case 'issuer': {
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        throw new CliError(`${key} "${value}" is not an http(s) URL (${settings[key].env})`);
      }
      // Paths are appended to it, so no trailing slash.
      return value.replace(/\/+$/, '');
    }
    case 'credsRefreshMargin':
      parseMargin(value);
      return value;
    case 'oidcScopes':
      if (!value.split(/\s+/).includes('openid')) {
        throw new CliError(`oidcScopes "${value}" must include openid (${settings[key].env})`);
      }
      return value.trim();
    default:
      if (value.trim() === '') throw new CliError(`${key} must not be empty (${settings[key].env})`);
      return value.trim();
  }
}

/** "5m", "90s", "1h", "0" or plain seconds. */
export function parseMargin(value: string): number {
  const match = /^\s*(\d+)\s*(s|m|h)?\s*$/.exec(value);
  if (!match) {
    throw new CliError(
      `credsRefreshMargin "${value}" is not a duration like 5m, 90s or 1h (JIT_CREDS_REFRESH_MARGIN)`,
    );
  }
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
}

/** Only where the config lives, nothing validated: for `jit config`, which must work to fix a bad file. */
export function bareConfig(env = process.env): CliConfig {
  return {
    apiUrl: settings.apiUrl.fallback,
    issuer: settings.issuer.fallback,
    clientId: settings.oidcClientId.fallback,
    scopes: settings.oidcScopes.fallback,
    credsRefreshMarginSeconds: 300,
    dir: configDir(env),
  };
}

/** A key as typed (apiUrl, api-url, API_URL) as its config.json name. */
export function settingKey(typed: string): SettingKey | undefined {
  const flat = (s: string) => s.replace(/[-_]/g, '').toLowerCase();
  return settingKeys.find((key) => flat(key) === flat(typed) || settings[key].env === typed);
}
