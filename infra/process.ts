import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { ensureDir, logsDir } from './paths.js';

/** A service of the local stack; `reused` when it was already up and is not ours to stop. */
export interface RunningService {
  name: string;
  url: string;
  uiUrl?: string;
  reused: boolean;
  stop(): Promise<void>;
}

export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

/** Finds an executable on PATH, like `which`. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function requireTool(name: string, why: string, hint: string): string {
  const path = findOnPath(name);
  if (!path) throw new PrerequisiteError(`${name} not found on PATH: ${why}. ${hint}`);
  return path;
}

/** Runs a set-up command to completion, its output appended to a log; throws naming the log on failure. */
export function runLogged(name: string, command: string, args: string[], env?: NodeJS.ProcessEnv): void {
  const logFile = join(ensureDir(logsDir), `${name}.log`);
  const fd = openSync(logFile, 'a');
  const result = spawnSync(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  if (result.status !== 0) {
    throw new PrerequisiteError(`${name} failed (exit ${result.status ?? result.signal}); see ${logFile}`);
  }
}

/** Starts a long-running service whose output goes to .data/logs/<name>.log. */
export function spawnService(
  name: string,
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): { child: ChildProcess; logFile: string } {
  const logFile = join(ensureDir(logsDir), `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  return { child, logFile };
}

/** Polls `ready` until it resolves true; fails early if the child exits. */
export async function waitUntilReady(
  name: string,
  ready: () => Promise<boolean>,
  opts: { timeoutMs: number; child?: ChildProcess; logFile?: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let exited: number | string | null = null;
  opts.child?.once('exit', (code, signal) => {
    exited = code ?? signal;
  });
  while (Date.now() < deadline) {
    if (exited !== null) {
      throw new PrerequisiteError(`${name} exited (${exited}) before it was ready; see ${opts.logFile}`);
    }
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new PrerequisiteError(`${name} not ready after ${opts.timeoutMs} ms; see ${opts.logFile}`);
}

/** A port the OS says is free right now (for test stacks that must not collide with `npm start`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.body?.cancel();
  return res.ok;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Reuses a service that already answers `ready`, else starts it and waits for it. */
export async function startOrReuse(spec: {
  name: string;
  url: string;
  uiUrl?: string;
  ready: () => Promise<boolean>;
  start: () => { command: string; args: string[]; env?: NodeJS.ProcessEnv };
  timeoutMs: number;
}): Promise<RunningService> {
  const base = { name: spec.name, url: spec.url, ...(spec.uiUrl ? { uiUrl: spec.uiUrl } : {}) };
  if (await spec.ready().catch(() => false)) return { ...base, reused: true, stop: async () => {} };
  const { command, args, env } = spec.start();
  const { child, logFile } = spawnService(spec.name, command, args, env);
  await waitUntilReady(spec.name, spec.ready, { timeoutMs: spec.timeoutMs, child, logFile });
  return { ...base, reused: false, stop: () => stopChild(child) };
}
