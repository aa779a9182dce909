// The dev issuer's HTML: the page frame, the login form, and the device-flow and error pages
// oidc-provider renders through its configuration hooks.
import type { ServerResponse } from 'node:http';
import type { Configuration, ErrorOut, errors, KoaContextWithOIDC } from 'oidc-provider';
import { devUsers } from './dev-users.js';

export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · jit-broker dev</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}.error{color:#b00}label,input,button{display:block;margin:.5rem 0}</style>
</head><body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>`;
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
  <label for="username">Username</label>
  <input type="text" id="username" name="username" autocomplete="username" autofocus required>
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
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

/** RP-initiated logout (the console's "Sign out everywhere"): the issuer asks before ending its session. */
export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  ctx.body = page(
    'Sign out',
    `<p>Sign out of the jit-broker dev issuer too?</p>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
  );
}

export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.body = page('Signed out', '<p>You are signed out of the jit-broker dev issuer.</p>');
}

export const renderError: Configuration['renderError'] = (ctx, out) => {
  ctx.type = 'html';
  ctx.body = page(
    'Sign-in error',
    `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`,
  );
};
