// The console over plain HTTP, as a browser would drive it: a cookie jar shared by every origin on
// 127.0.0.1 (browsers ignore the port for cookies), manual redirects, HTML forms. For the console's
// security tests; test/console-browser.test.ts drives a real Chromium.
import type { DevUserName } from './broker.js';

export interface Page {
  status: number;
  url: string;
  location?: string;
  headers: Headers;
  html: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class ConsoleClient {
  cookies: Cookie[] = [];
  /** Every Set-Cookie header received, raw, for checking cookie attributes. */
  setCookies: string[] = [];
  /** Every URL requested, in order. */
  visited: string[] = [];

  constructor(readonly base: string) {}

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter(
        (c) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(header: string, url: URL): void {
    const [pair = '', ...attributes] = header.split(';');
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
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

  /** One request, no redirect followed. */
  async request(
    method: string,
    path: string,
    opts: { form?: Record<string, string>; headers?: Record<string, string | undefined> } = {},
  ): Promise<Page> {
    const url = new URL(path, this.base);
    this.visited.push(url.href);
    const headers: Record<string, string> = { accept: 'text/html' };
    // A browser's form post from one of the console's pages; a header given as undefined is left out.
    if (method === 'POST') headers.origin = new URL(this.base).origin;
    for (const [key, value] of Object.entries(opts.headers ?? {})) {
      if (value === undefined) delete headers[key];
      else headers[key] = value;
    }
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(opts.form ? { body: new URLSearchParams(opts.form) } : {}),
    });
    for (const header of res.headers.getSetCookie()) {
      this.setCookies.push(header);
      this.store(header, url);
    }
    const location = res.headers.get('location') ?? undefined;
    return {
      status: res.status,
      url: url.href,
      ...(location ? { location: new URL(location, url).href } : {}),
      headers: res.headers,
      html: await res.text(),
    };
  }

  get = (path: string, headers?: Record<string, string>) =>
    this.request('GET', path, { ...(headers ? { headers } : {}) });

  /** Follows redirects (GET after each), up to a limit. */
  async follow(first: Page, limit = 10): Promise<Page> {
    let page = first;
    for (let i = 0; i < limit && page.location && page.status >= 300 && page.status < 400; i++) {
      page = await this.request('GET', page.location);
    }
    return page;
  }

  /** Signs in through the dev issuer's login page, as `user` with their password. */
  async signIn(user: DevUserName, password: string = user, returnTo = '/grants'): Promise<Page> {
    let page = await this.get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
    let tried = false;
    for (let step = 0; step < 12; step++) {
      if (page.location && page.status >= 300 && page.status < 400) {
        page = await this.request('GET', page.location);
        continue;
      }
      const form = parseForm(page.html);
      // The login form again after a try: the issuer refused the password.
      if (!form?.fields.has('password') || tried) return page;
      tried = true;
      form.fields.set('username', user);
      form.fields.set('password', password);
      page = await this.request('POST', new URL(form.action, page.url).href, {
        form: Object.fromEntries(form.fields),
        headers: { origin: new URL(page.url).origin },
      });
    }
    throw new Error(`sign-in as ${user} did not finish`);
  }

  /** POSTs the first form on `html` whose action ends with `action`, with these fields changed. */
  async submit(
    html: string,
    action: string,
    fields: Record<string, string> = {},
    headers?: Record<string, string | undefined>,
  ) {
    const form = parseForms(html).find((f) => f.action.endsWith(action));
    if (!form) throw new Error(`no form posting to ${action}`);
    for (const [key, value] of Object.entries(fields)) form.fields.set(key, value);
    return this.request('POST', form.action, {
      form: Object.fromEntries(form.fields),
      ...(headers ? { headers } : {}),
    });
  }

  sessionCookie(): Cookie | undefined {
    return this.cookies.find((c) => c.name === 'jit_console');
  }
}

export interface HtmlForm {
  action: string;
  fields: Map<string, string>;
}

/** Enough HTML reading for the console's and the issuer's forms: action and named inputs. */
export function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const fields = new Map<string, string>();
    const inputs = /<input\b([^>]*)>|<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi;
    for (const input of (match[2] ?? '').matchAll(inputs)) {
      const attrs = attributes(input[1] ?? input[2] ?? '');
      const name = attrs.get('name');
      const type = attrs.get('type');
      if (!name || type === 'radio' || type === 'checkbox') continue;
      fields.set(name, input[1] === undefined ? decode(input[3] ?? '') : (attrs.get('value') ?? ''));
    }
    forms.push({ action: attributes(match[1] ?? '').get('action') ?? '', fields });
  }
  return forms;
}

export const parseForm = (html: string): HtmlForm | undefined => parseForms(html)[0];

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [, name, value] of tag.matchAll(/([\w-]+)\s*=\s*"([^"]*)"/g)) {
    if (name) out.set(name.toLowerCase(), decode(value ?? ''));
  }
  return out;
}

function decode(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(Number.parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The text of the page's main element, tags removed: what a person reads. */
export function mainText(html: string): string {
  const main = /<main\b[^>]*>([\s\S]*?)<\/main>/i.exec(html)?.[1] ?? html;
  return decode(main.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}
