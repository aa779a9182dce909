// The browser of the console's browser tests: Debian's `chromium`, driven by playwright-core. No
// browser download: when /usr/bin/chromium is missing, it is installed from the Debian packages
// (as root, like the CI); otherwise this returns at once.
import { existsSync } from 'node:fs';
import { PrerequisiteError, runLogged } from './process.js';

export const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium(log: (msg: string) => void): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) {
    throw new PrerequisiteError(
      `${CHROMIUM} not found: the console's browser tests need Debian's chromium. Install it with \`sudo apt-get install -y chromium\`.`,
    );
  }
  log('installing Debian chromium for the browser tests (once) ...');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  try {
    runLogged('apt-chromium', 'apt-get', ['install', '-y', 'chromium'], env);
  } catch {
    // A fresh machine may not have package lists yet.
    runLogged('apt-chromium', 'apt-get', ['update'], env);
    runLogged('apt-chromium', 'apt-get', ['install', '-y', 'chromium'], env);
  }
  if (!existsSync(CHROMIUM))
    throw new PrerequisiteError(`apt-get installed chromium but ${CHROMIUM} is missing`);
  return CHROMIUM;
}
