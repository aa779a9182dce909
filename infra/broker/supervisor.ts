// Keeps a child process of `npm start` running: when it dies, says so (with its log) and starts it again
// after a backoff; when it keeps dying, gives up loudly so the whole stack stops instead of limping on.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SupervisorOptions {
  name: string;
  logFile: string;
  /** Starts the process (again). */
  spawn: () => ChildProcess;
  /** Resolves once a new process serves; rejects (or times out) when it does not. */
  ready: (child: ChildProcess) => Promise<void>;
  say: (line: string) => void;
  /** Called once after `maxCrashes` crashes within `windowMs`: the stack should stop. */
  giveUp: (why: string) => void;
  /** Called with each new process once it serves. */
  onRestart?: (child: ChildProcess) => void;
  backoffMs?: number[];
  maxCrashes?: number;
  windowMs?: number;
}

export interface Supervisor {
  /** The process running now. */
  current(): ChildProcess;
  /** Stops supervising and the process (SIGTERM, SIGKILL after 10 s). */
  stop(): Promise<void>;
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `killed by ${signal}` : `exit code ${code}`;

export function supervise(first: ChildProcess, opts: SupervisorOptions): Supervisor {
  const backoff = opts.backoffMs ?? [1000, 2000, 5000, 10_000, 30_000];
  const maxCrashes = opts.maxCrashes ?? 5;
  const windowMs = opts.windowMs ?? 5 * 60_000;
  const crashes: number[] = [];
  let child = first;
  let stopping = false;

  const watch = (process: ChildProcess) => {
    process.once('exit', (code, signal) => {
      if (stopping || process !== child) return;
      void restart(describeExit(code, signal));
    });
  };

  const restart = async (how: string) => {
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && (crashes[0] as number) < now - windowMs) crashes.shift();
    if (crashes.length >= maxCrashes) {
      opts.giveUp(
        `${opts.name} died ${crashes.length} times within ${Math.round(windowMs / 60_000)} min (last: ${how}); see ${opts.logFile}`,
      );
      return;
    }
    const delay = backoff[Math.min(crashes.length - 1, backoff.length - 1)] as number;
    opts.say(`${opts.name} died (${how}); restarting in ${delay / 1000} s (log: ${opts.logFile})`);
    await sleep(delay);
    if (stopping) return;
    child = opts.spawn();
    watch(child);
    try {
      await opts.ready(child);
      if (stopping) return;
      opts.say(`${opts.name} is back (pid ${child.pid})`);
      opts.onRestart?.(child);
    } catch (err) {
      // Its exit handler restarts it again (or gives up); a hung start is killed so that it does.
      if (child.exitCode === null && child.signalCode === null) {
        opts.say(`${opts.name} did not come back: ${err instanceof Error ? err.message : String(err)}`);
        child.kill('SIGKILL');
      }
    }
  };

  watch(child);
  return {
    current: () => child,
    async stop() {
      stopping = true;
      const running = child;
      if (running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
