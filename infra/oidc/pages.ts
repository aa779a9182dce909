// The dev issuer's HTML: the page frame, the login form, and the device-flow and error pages
// oidc-provider renders through its configuration hooks.
import type { ServerResponse } from 'node:http';
import type { Configuration, ErrorOut, errors, KoaContextWithOIDC } from 'oidc-provider';
import { devUsers } from './dev-users.js';

export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)} · jit-broker dev</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto}.error{color:#b00}input,button{display:block;margin:.5rem 0}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

export function sendPage(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(page(title, body));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function loginForm(uid: string, error?: string): string {
  const users = devUsers.map((user) => user.username).join(', ');
  const intro = error
    ? `<p class="error">${escapeHtml(error)}</p>`
    : `<p>Dev users: ${users} (password = username).</p>`;
  return `${intro}
<form method="post" action="/interaction/${escapeHtml(uid)}">
  <input type="text" name="username" placeholder="username" autofocus required>
  <input type="password" name="password" placeholder="password" required>
  <button type="submit">Sign in</button>
</form>`;
}

export async function userCodeInputSource(
  ctx: KoaContextWithOIDC,
  form: string,
  _out?: ErrorOut,
  err?: errors.OIDCProviderError | Error,
): Promise<void> {
  const intro = err
    ? '<p class="error">That code did not work, try again.</p>'
    : '<p>Enter the code shown by the jit CLI.</p>';
  ctx.body = page(
    'Sign in',
    `${intro}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

export async function userCodeConfirmSource(
  ctx: KoaContextWithOIDC,
  form: string,
  _client: unknown,
  _device: unknown,
  code: string,
): Promise<void> {
  ctx.body = page(
    'Confirm device',
    `<p>Does the jit CLI show <code>${escapeHtml(code)}</code>?</p>${form}
<button type="submit" form="op.deviceConfirmForm">Yes, continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">No, abort</button>`,
  );
}

export async function successSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.body = page('Signed in', '<p>You are signed in; return to the terminal.</p>');
}

export const renderError: Configuration['renderError'] = (ctx, out) => {
  ctx.type = 'html';
  ctx.body = page(
    'Sign-in error',
    `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`,
  );
};
