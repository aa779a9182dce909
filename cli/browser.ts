// Opening a URL for the person at the keyboard: `jit login` offers it, `jit console --open` does it.
import { spawn } from 'node:child_process';
import { note } from './output.js';

/** Opens a URL in the default browser (best effort: the URL is always printed too). */
export function openBrowser(url: string): void {
  const opener =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => note(`could not start ${opener}; open the URL yourself`));
    child.unref();
  } catch {}
}

/** True when a person can answer a prompt: stdin and stderr are terminals. */
export const interactive = () => Boolean(process.stdin.isTTY && process.stderr.isTTY);

/**
 * Like `gh auth login`: "Press Enter to open ... in your browser", while the caller goes on waiting.
 * Returns the function that withdraws the offer (and releases stdin so the process can exit).
 */
export function offerToOpen(url: string, what: string): () => void {
  note(`Press Enter to open ${what} in your browser.`);
  const stdin = process.stdin;
  const onData = (chunk: Buffer | string) => {
    if (!/[\r\n]/.test(String(chunk))) return;
    openBrowser(url);
    stop();
  };
  const stop = () => {
    stdin.off('data', onData);
    stdin.pause();
  };
  stdin.on('data', onData);
  stdin.resume();
  return stop;
}
