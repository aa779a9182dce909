// Runs the real `jit` executable as a child process, one config dir per user, and plays the
// user's browser for `jit login` (the same form walk as infra/oidc/device-login.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDevUser } from '../../infra/oidc/dev-users.js';
import { completeUserStep } from '../../infra/oidc/device-login.js';
import { repoRoot } from '../../infra/paths.js';
import type { DevUserName } from './broker.js';
import { testStack } from './stack.js';

export const jitBin = join(repoRoot, 'cli/bin.js');

export interface JitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One person at one terminal: their own config dir (token cache), pointed at the test API. */
export interface CliUser {
  configHome: string;
  env: NodeJS.ProcessEnv;
  /** Runs `jit ...args` to completion. */
  run(...args: string[]): Promise<JitResult>;
  /** Starts `jit ...args` and returns at once, for commands that wait (login, request --wait). */
  start(...args: string[]): RunningJit;
}

export interface RunningJit {
  child: ChildProcess;
  /** Resolves with the first match of `pattern` in stderr so far or to come. */
  stderrMatch(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<JitResult>;
}

export interface CliUserOptions {
  /** The jit to run: the sources (cli/bin.js, default) or the bundle (dist/cli/jit.mjs). */
  bin?: string;
  /** The node that runs it (default: this one). */
  node?: string;
  /** Settings in the environment; default JIT_API_URL and JIT_OIDC_ISSUER of the test stack. */
  env?: NodeJS.ProcessEnv;
}

export function cliUser(apiUrl: string, opts: CliUserOptions = {}): CliUser {
  const configHome = mkdtempSync(join(tmpdir(), 'jit-cli-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(opts.env ?? { JIT_API_URL: apiUrl, JIT_OIDC_ISSUER: testStack().oidcIssuer }),
    XDG_CONFIG_HOME: configHome,
    NO_COLOR: '1',
  };
  const start = (...args: string[]) =>
    startJit([opts.bin ?? jitBin, ...args], env, opts.node ?? process.execPath);
  return { configHome, env, start, run: (...args) => start(...args).done };
}

function startJit(argv: string[], env: NodeJS.ProcessEnv, node: string): RunningJit {
  const args = argv.slice(1);
  const child = spawn(node, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener();
  });
  const done = new Promise<JitResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      for (const listener of listeners) listener();
      resolve({ code, stdout, stderr });
    });
  });
  const stderrMatch = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(`jit ${args.join(' ')}: no ${pattern} on stderr within ${timeoutMs} ms:\n${stderr}`),
        );
      }, timeoutMs);
      function check() {
        const match = stderr.match(pattern);
        if (match) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(match);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          listeners.delete(check);
          reject(new Error(`jit ${args.join(' ')} exited ${child.exitCode} before ${pattern}:\n${stderr}`));
        }
      }
      listeners.add(check);
      check();
    });
  return { child, stderrMatch, done };
}

/** `jit login` for real: reads the URL it prints, logs in on the issuer's pages, waits for it to finish. */
export async function loginWithCli(user: CliUser, name: DevUserName): Promise<JitResult> {
  const login = user.start('login');
  const [url] = await login.stderrMatch(/https?:\/\/\S*user_code=\S+/);
  await completeUserStep(url, { username: name, password: findDevUser(name)?.password ?? '' });
  return login.done;
}
