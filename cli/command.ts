// What every command is: a name, its help text, its flags, and a run function over a shared context.
import type { ParseArgsConfig } from 'node:util';
import { ApiClient } from './client.js';
import type { CliConfig } from './config.js';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export interface Context {
  config: CliConfig;
  /** `--json`: raw API JSON on stdout instead of tables. */
  json: boolean;
  api: ApiClient;
  positionals: string[];
  values: Values;
  /** Throws a UsageError carrying this command's usage. */
  usage(message: string): never;
}

export interface Command {
  /** One or two words: "request", "audit export". */
  name: string;
  summary: string;
  /** Synopsis and flag lines for `--help`; the global flags are appended. */
  help: string;
  options?: Options;
  /** How many positionals the command takes: [min, max]. */
  args?: [number, number];
  /** Reads the settings itself (`jit config`): runs even when they are invalid. */
  ownsConfig?: boolean;
  /** Resolves to the exit code; undefined means 0. */
  run(ctx: Context): Promise<number | undefined>;
}

export const globalOptions = {
  api: { type: 'string' },
  issuer: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const globalHelp = `Global flags:
  --api URL      broker API (else JIT_API_URL, \`jit config set apiUrl URL\`, http://127.0.0.1:8080)
  --issuer URL   OIDC issuer (else JIT_OIDC_ISSUER, \`jit config set issuer URL\`, http://127.0.0.1:4444)
  --token-file F a token to use instead of the login (else JIT_TOKEN_FILE, JIT_TOKEN, the
                 GitHub Actions OIDC token with audience JIT_TOKEN_AUDIENCE or jit-broker)
  --json         print the API's JSON instead of tables
  -h, --help     this help`;

export function usageOf(command: Command): string {
  return `${command.help.trim()}\n\n${globalHelp}`;
}

export function createContext(
  command: Command,
  config: CliConfig,
  positionals: string[],
  values: Values,
): Context {
  return {
    config,
    json: values.json === true,
    api: new ApiClient(config),
    positionals,
    values,
    usage(message: string): never {
      throw new UsageError(message, usageOf(command));
    },
  };
}

/** A string flag's value, or undefined when absent. */
export const flag = (ctx: Context, name: string): string | undefined => {
  const value = ctx.values[name];
  return typeof value === 'string' ? value : undefined;
};

/** A flag the command cannot do without. */
export function requiredFlag(ctx: Context, name: string): string {
  const value = flag(ctx, name);
  if (value === undefined || value.trim() === '') ctx.usage(`missing --${name}`);
  return value;
}

/** A grant id argument: the `grant-` prefix may be left off. */
export function grantIdArg(ctx: Context, index = 0): string {
  const id = ctx.positionals[index];
  if (!id) ctx.usage('missing grant ID');
  return id.startsWith('grant-') ? id : `grant-${id}`;
}
