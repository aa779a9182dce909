// `jit config`: the settings file, so no shell (and no credential_process line) needs JIT_* variables.
import type { Command, Context } from '../command.js';
import {
  checkSetting,
  configFilePath,
  readConfigFile,
  resolveSetting,
  type SettingKey,
  settingKey,
  settingKeys,
  settings,
  writeConfigFile,
} from '../config.js';
import { exitCodes } from '../errors.js';
import { note, out, printJson, table } from '../output.js';

const keyList = settingKeys.map(
  (key) => `  ${key.padEnd(20)} ${settings[key].env.padEnd(26)} ${settings[key].about}`,
);
const keysHelp = `Settings (config.json key, environment variable, what it is):\n${keyList.join('\n')}`;

function keyArg(ctx: Context): SettingKey {
  const typed = ctx.positionals[0] as string;
  const key = settingKey(typed);
  if (!key) ctx.usage(`unknown setting "${typed}"`);
  return key;
}

/** The value as it will be used, or a usage error naming what is wrong with it. */
function checked(ctx: Context, key: SettingKey, typed: string): string {
  try {
    return checkSetting(key, typed);
  } catch (err) {
    return ctx.usage((err as Error).message);
  }
}

const flagsOf = (ctx: Context) => ({
  ...(typeof ctx.values.api === 'string' ? { apiUrl: ctx.values.api } : {}),
  ...(typeof ctx.values.issuer === 'string' ? { issuer: ctx.values.issuer } : {}),
});

export const configList: Command = {
  name: 'config list',
  summary: 'every setting, its value and where it comes from',
  help: `Usage: jit config list [--json]

Each setting comes from the first of: its flag (--api, --issuer), its environment variable,
config.json ($XDG_CONFIG_HOME/jit/config.json), the default (the local stack).

${keysHelp}`,
  ownsConfig: true,
  async run(ctx) {
    const file = readConfigFile(configFilePath(ctx.config.dir));
    const rows = settingKeys.map((key) => ({ key, ...resolveSetting(key, flagsOf(ctx), file) }));
    if (ctx.json) {
      printJson({ file: configFilePath(ctx.config.dir), settings: rows });
      return undefined;
    }
    table(
      ['SETTING', 'VALUE', 'FROM'],
      rows.map((r) => [r.key, r.value ?? '-', r.source === 'env' ? settings[r.key].env : r.source]),
    );
    note(`config file: ${configFilePath(ctx.config.dir)}`);
    return undefined;
  },
};

export const configGet: Command = {
  name: 'config get',
  summary: "a setting's value in effect",
  help: `Usage: jit config get KEY\n\nPrints the value in effect (flag, env, file or default); exit 3 if it has none.\n\n${keysHelp}`,
  args: [1, 1],
  ownsConfig: true,
  async run(ctx) {
    const key = keyArg(ctx);
    const { value } = resolveSetting(key, flagsOf(ctx), readConfigFile(configFilePath(ctx.config.dir)));
    if (value === undefined) return exitCodes.negative;
    out(value);
    return undefined;
  },
};

export const configSet: Command = {
  name: 'config set',
  summary: 'write a setting to config.json',
  help: `Usage: jit config set KEY VALUE

  jit config set apiUrl https://jit.example.com
  jit config set issuer https://idp.example.com/oauth2/default

${keysHelp}`,
  args: [2, 2],
  ownsConfig: true,
  async run(ctx) {
    const key = keyArg(ctx);
    const value = checked(ctx, key, ctx.positionals[1] as string);
    const dir = ctx.config.dir;
    writeConfigFile(dir, { ...readConfigFile(configFilePath(dir)), [key]: value });
    const shadowed = process.env[settings[key].env];
    note(`${key} = ${value} (in ${configFilePath(dir)})`);
    if (shadowed) note(`note: ${settings[key].env}=${shadowed} is set in this shell and wins over the file`);
    return undefined;
  },
};

export const configUnset: Command = {
  name: 'config unset',
  summary: 'remove a setting from config.json (back to its default)',
  help: `Usage: jit config unset KEY\n\n${keysHelp}`,
  args: [1, 1],
  ownsConfig: true,
  async run(ctx) {
    const key = keyArg(ctx);
    const dir = ctx.config.dir;
    const { [key]: _removed, ...rest } = readConfigFile(configFilePath(dir));
    writeConfigFile(dir, rest);
    note(`${key} removed from ${configFilePath(dir)}`);
    return undefined;
  },
};
