// Logs a dev user in through the OIDC device flow without a browser: openid-client plays the
// CLI, and fetch with a cookie jar plays the user's browser on the verification page.
import {
  allowInsecureRequests,
  type Configuration,
  discovery,
  initiateDeviceAuthorization,
  None,
  pollDeviceAuthorizationGrant,
} from 'openid-client';
import { findDevUser } from './dev-users.js';

export interface DeviceLoginOptions {
  issuer: string;
  user: string;
  /** Defaults to the dev user's password from dev-users.ts. */
  password?: string;
  clientId?: string;
  scope?: string;
}

export interface DeviceLoginTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
}

export class IssuerUnreachableError extends Error {
  constructor(issuer: string, cause: unknown) {
    super(`OIDC issuer ${issuer} is not reachable`, { cause });
    this.name = 'IssuerUnreachableError';
  }
}

// offline_access asks for a refresh token; the API audience is the issuer's default resource.
const DEFAULT_SCOPE = 'openid profile email groups offline_access';
// Confirm page, login form, each redirect in between: a handful of steps, never dozens.
const MAX_BROWSER_STEPS = 12;
const POLL_TIMEOUT_MS = 5000;

export async function deviceLogin(opts: DeviceLoginOptions): Promise<DeviceLoginTokens> {
  const config = await discover(opts.issuer, opts.clientId ?? 'jit-cli');
  const authorization = await initiateDeviceAuthorization(config, { scope: opts.scope ?? DEFAULT_SCOPE });
  if (!authorization.verification_uri_complete) {
    throw new Error('the issuer returned no verification_uri_complete; cannot complete the user step');
  }
  await completeUserStep(authorization.verification_uri_complete, {
    username: opts.user,
    password: opts.password ?? findDevUser(opts.user)?.password ?? '',
  });
  // The user step is done, so the first poll succeeds: no need to wait the advertised interval,
  // and a poll that still finds the code pending fails fast instead of polling for ten minutes.
  const tokens = await pollDeviceAuthorizationGrant(config, { ...authorization, interval: 0.1 }, undefined, {
    signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
  });
  return {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    id_token: tokens.id_token,
    expires_in: tokens.expires_in,
  };
}

async function discover(issuer: string, clientId: string): Promise<Configuration> {
  try {
    // Plain http is acceptable only because the dev issuer listens on loopback.
    return await discovery(new URL(issuer), clientId, undefined, None(), {
      execute: [allowInsecureRequests],
    });
  } catch (err) {
    // fetch reports network failures (refused, DNS, reset) as TypeError.
    if (err instanceof TypeError) throw new IssuerUnreachableError(issuer, err);
    throw err;
  }
}

// Walks the verification pages like a browser: follows redirects, submits each form (the
// auto-posting code form, the confirm form with its xsrf token, the login form) until a page
// without a form, the success page, is reached. Tests of `jit login` reuse it for the user's part.
export async function completeUserStep(
  verificationUri: string,
  credentials: { username: string; password: string },
) {
  const browser = new CookieJarFetch();
  let url = new URL(verificationUri);
  let response = await browser.fetch(url);
  for (let step = 0; step < MAX_BROWSER_STEPS; step++) {
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      response = await browser.fetch(url);
      continue;
    }
    const html = await response.text();
    if (!response.ok) {
      throw new Error(
        `device login for "${credentials.username}" refused (HTTP ${response.status}): ${pageText(html)}`,
      );
    }
    const form = parseForm(html);
    if (!form) return;
    if (form.fields.has('password')) {
      form.fields.set('username', credentials.username);
      form.fields.set('password', credentials.password);
    }
    url = new URL(form.action, url);
    response = await browser.fetch(url, new URLSearchParams([...form.fields]));
  }
  throw new Error(
    `device login for "${credentials.username}" did not finish within ${MAX_BROWSER_STEPS} pages`,
  );
}

interface HtmlForm {
  action: string;
  fields: Map<string, string>;
}

// Enough HTML parsing for the issuer's own pages: the first form and its named inputs.
function parseForm(html: string): HtmlForm | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields = new Map<string, string>();
  for (const input of (form[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
    const attrs = parseAttributes(input[1] ?? '');
    const name = attrs.get('name');
    if (name) fields.set(name, attrs.get('value') ?? '');
  }
  return { action: parseAttributes(form[1] ?? '').get('action') ?? '', fields };
}

function parseAttributes(tag: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const [, name, value] of tag.matchAll(/([\w-]+)\s*=\s*"([^"]*)"/g)) {
    if (name) attrs.set(name.toLowerCase(), decodeEntities(value ?? ''));
  }
  return attrs;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// The issuer's pages say what went wrong in their paragraphs.
function pageText(html: string): string {
  const paragraphs = [...html.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>/gi)].map((p) => p[1] ?? '');
  const text = (paragraphs.length ? paragraphs.join(' ') : html).replace(/<[^>]*>/g, ' ');
  return decodeEntities(text.replace(/\s+/g, ' ').trim()).slice(0, 300);
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

// A browser's cookie handling, cut down to one host: path scoping, replacement and deletion.
// oidc-provider scopes its interaction and resume cookies to their own paths.
class CookieJarFetch {
  private cookies: Cookie[] = [];

  async fetch(url: URL, form?: URLSearchParams): Promise<Response> {
    const cookie = this.cookies
      .filter(
        (c) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      body: form,
      headers: cookie ? { cookie } : {},
      redirect: 'manual',
    });
    for (const header of response.headers.getSetCookie()) this.store(header, url);
    return response;
  }

  private store(header: string, url: URL): void {
    const [pair = '', ...attributes] = header.split(';');
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
    let expired = false;
    for (const attribute of attributes) {
      const [key = '', attrValue = ''] = attribute.split('=').map((part) => part.trim());
      if (key.toLowerCase() === 'path') path = attrValue || '/';
      if (key.toLowerCase() === 'expires' && Date.parse(attrValue) <= Date.now()) expired = true;
      if (key.toLowerCase() === 'max-age' && Number(attrValue) <= 0) expired = true;
    }
    this.cookies = this.cookies.filter((c) => c.name !== name || c.path !== path);
    if (!expired) this.cookies.push({ name, value, path });
  }
}
