// `jit`: finds the command, parses its flags, runs it, and turns every failure into a message and an exit code.
import { parseArgs } from 'node:util';
import { type Command, createContext, globalHelp, globalOptions, usageOf, type Values } from './command.js';
import { auditExport, auditVerify } from './commands/audit.js';
import { configGet, configList, configSet, configUnset } from './commands/config.js';
import { consoleCommand, creds, env } from './commands/creds.js';
import { login, logout, whoami } from './commands/login.js';
import { kill } from './commands/principals.js';
import {
  approve,
  cancel,
  deny,
  extend,
  list,
  request,
  revoke,
  roles,
  statusCommand,
} from './commands/requests.js';
import { nudge, review } from './commands/review.js';
import { bareConfig, loadConfig } from './config.js';
import { ApiRefusal, CliError, exitCodes, UsageError } from './errors.js';
import { humanizeSeconds, paint } from './output.js';

const commands: Command[] = [
  login,
  logout,
  whoami,
  roles,
  request,
  statusCommand,
  list,
  approve,
  deny,
  cancel,
  revoke,
  extend,
  nudge,
  review,
  creds,
  consoleCommand,
  env,
  auditExport,
  auditVerify,
  configList,
  configGet,
  configSet,
  configUnset,
  kill,
];

const overview = `Usage: jit COMMAND [ARGS] [FLAGS]

Just-in-time AWS access: ask for a role for a while, get it approved, use it.

Commands:
${commands.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`).join('\n')}

${globalHelp}

Exit codes: 0 ok, 1 refused or failed, 2 not logged in (or the given token was refused),
3 the answer is no (grant ended without becoming active, no active grant, broken audit chain),
64 bad usage. Nothing prompts: in scripts and CI pass a token (--token-file, JIT_TOKEN).
Settings (API, issuer, login client): \`jit config list\`.
Run \`jit COMMAND --help\` for a command's flags.`;

/** The command named by the first one or two words, and the arguments after it. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const two = commands.find((c) => c.name === `${argv[0]} ${argv[1]}`);
  if (two) return { command: two, rest: argv.slice(2) };
  const one = commands.find((c) => c.name === argv[0]);
  return one && { command: one, rest: argv.slice(1) };
}

/** `jit --api URL roles` as `jit roles --api URL`: global flags may come before the command. */
function hoistGlobalFlags(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const name = /^--([\w-]+)/.exec(argv[i] as string)?.[1];
    const spec = name && name !== 'help' ? globalOptions[name as keyof typeof globalOptions] : undefined;
    if (!spec) break;
    const takesValue = spec.type === 'string' && !(argv[i] as string).includes('=');
    leading.push(...argv.slice(i, i + (takesValue ? 2 : 1)));
    i += takesValue ? 2 : 1;
  }
  return [...argv.slice(i), ...leading];
}

async function main(args: string[]): Promise<number> {
  const argv = hoistGlobalFlags(args);
  const [first] = argv;
  if (first === undefined) throw new UsageError('missing command', overview);
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${overview}\n`);
    return exitCodes.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(`${first} `));
    if (group.length > 0 && (argv[1] === undefined || argv[1] === '--help' || argv[1] === '-h')) {
      // `jit audit` alone: the group's commands.
      const text = `Usage:\n${group.map((c) => `  jit ${c.name.padEnd(14)} ${c.summary}`).join('\n')}`;
      if (argv[1] === undefined) throw new UsageError(`missing ${first} subcommand`, text);
      process.stdout.write(`${text}\n`);
      return exitCodes.ok;
    }
    throw new UsageError(`unknown command "${group.length > 0 ? `${first} ${argv[1]}` : first}"`, overview);
  }
  const { command, rest } = found;
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...globalOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), usageOf(command));
  }
  if (parsed.values.help) {
    process.stdout.write(`${usageOf(command)}\n`);
    return exitCodes.ok;
  }
  const [min, max] = command.args ?? [0, 0];
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const message =
      parsed.positionals.length < min
        ? 'missing argument'
        : `unexpected argument "${parsed.positionals[max]}"`;
    throw new UsageError(message, usageOf(command));
  }
  const config = command.ownsConfig
    ? bareConfig()
    : loadConfig({
        api: typeof parsed.values.api === 'string' ? parsed.values.api : undefined,
        issuer: typeof parsed.values.issuer === 'string' ? parsed.values.issuer : undefined,
        tokenFile: typeof parsed.values['token-file'] === 'string' ? parsed.values['token-file'] : undefined,
      });
  return (
    (await command.run(createContext(command, config, parsed.positionals, parsed.values))) ?? exitCodes.ok
  );
}

/** The next step after a refusal, where there is an obvious one. */
const refusalHints: Record<string, string> = {
  unknown_role: 'run `jit roles` to see the roles you may request',
  policy_denied: 'run `jit roles` to see the roles you may request and their limits',
  not_found: 'run `jit list` to see the grants you can see',
  extension_exceeds_cap: 'run `jit roles` to see the role limits',
};

function report(err: unknown): number {
  const prefix = paint('red', 'jit:', process.stderr);
  if (err instanceof UsageError) {
    process.stderr.write(`${prefix} ${err.message}\n\n${err.usage}\n`);
  } else if (err instanceof ApiRefusal) {
    const hint = refusalHints[err.code];
    const message = humanizeSeconds(err.apiMessage);
    process.stderr.write(`${prefix} refused (${err.code}): ${message}${hint ? `\n${hint}` : ''}\n`);
  } else if (err instanceof CliError) {
    process.stderr.write(`${prefix} ${err.message}\n`);
  } else {
    process.stderr.write(`${prefix} ${err instanceof Error ? err.message : String(err)}\n`);
    return exitCodes.failed;
  }
  return err.exitCode;
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  code = report(err);
}
// exitCode, not exit(): stdout may still be flushing into a pipe.
process.exitCode = code;
