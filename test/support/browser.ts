// Debian's Chromium through playwright-core, for the console's browser tests: each person gets a
// context of their own (cookies, time zone, viewport). Every page checked gets axe-core (no
// serious or critical violation), a watch for CSP violations and script errors, and a screenshot.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM } from '../../infra/chromium.js';
import { dataDir, repoRoot } from '../../infra/paths.js';

/** Screenshots go here on every run (git-ignored). */
export const screenshotDir = join(dataDir, 'test', 'screenshots');
/** The README's screenshots; rewritten by a run with JIT_UPDATE_SCREENSHOTS=1. */
export const committedScreenshotDir = join(repoRoot, 'docs', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  // launch() gives every run a fresh, temporary user-data dir.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Problems a page reported: CSP violations, uncaught script errors. */
const problems = new WeakMap<Page, string[]>();

export async function newPerson(
  browser: Browser,
  opts: { timezoneId?: string; viewport?: { width: number; height: number }; isMobile?: boolean } = {},
): Promise<BrowserContext> {
  const context = await browser.newContext({
    locale: 'en-US',
    timezoneId: opts.timezoneId ?? 'Europe/Berlin',
    viewport: opts.viewport ?? { width: 1280, height: 900 },
    ...(opts.isMobile ? { isMobile: true, hasTouch: true } : {}),
    acceptDownloads: true,
  });
  context.setDefaultTimeout(20_000);
  context.on('page', watch);
  return context;
}

function watch(page: Page): void {
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(text)) seen.push(text);
  });
  page.on('pageerror', (err) => seen.push(`script error: ${err.message}`));
}

export async function openPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  if (!problems.has(page)) watch(page);
  return page;
}

/**
 * The checks every console page gets: no serious or critical axe violation, no CSP violation or
 * script error so far, and a screenshot (also into docs/screenshots/ when `committed` and
 * JIT_UPDATE_SCREENSHOTS=1).
 */
export async function checkPage(page: Page, name: string, opts: { committed?: boolean } = {}): Promise<void> {
  await page.waitForLoadState('load');
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${name} (${page.url()})`,
  );
  assert.deepEqual(problems.get(page) ?? [], [], `CSP violations or script errors on ${name}`);
  await screenshot(page, name, opts.committed ?? false);
}

export async function screenshot(page: Page, name: string, committed = false): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
  if (committed && process.env.JIT_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(committedScreenshotDir, { recursive: true });
    copyFileSync(join(screenshotDir, `${name}.png`), join(committedScreenshotDir, `${name}.png`));
  }
}

/** Signs in through the dev issuer's real login page; ends on the console page that asked for it. */
export async function signIn(page: Page, consoleUrl: string, user: string, password = user): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.href.startsWith(consoleUrl) && !url.pathname.startsWith('/auth/'));
}
