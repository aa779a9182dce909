// The issuer's /interaction/ pages. The only interaction left is login: consent is granted by
// the provider's loadExistingGrant (issuer.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { errors, default as Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { findDevUser } from './dev-users.js';
import { escapeHtml, loginForm, sendPage } from './pages.js';

// oidc-provider errors carry an HTTP status and a human-readable description; readBody's 413 a status.
type InteractionError = Error & Partial<Pick<errors.OIDCProviderError, 'statusCode' | 'error_description'>>;

/** Serves one interaction request; a failure is logged and answered with an error page. */
export function handleInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
): void {
  loginInteraction(provider, req, res, logger).catch((err: InteractionError) => {
    const status = err.statusCode ?? 500;
    const reason = err.error_description ?? err.message;
    if (status >= 500) logger.error({ err }, 'dev login interaction failed');
    else logger.info({ status, reason }, 'dev login interaction rejected');
    if (res.headersSent) return res.end();
    sendPage(res, status, 'Sign-in failed', `<p>${escapeHtml(reason)}</p>`);
  });
}

async function loginInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
): Promise<void> {
  const { uid, prompt } = await provider.interactionDetails(req, res);
  if (prompt.name !== 'login') {
    return sendPage(res, 400, 'Sign-in failed', `<p>Unexpected prompt ${escapeHtml(prompt.name)}.</p>`);
  }
  if (req.method === 'GET') return sendPage(res, 200, 'Sign in', loginForm(uid));
  if (req.method !== 'POST') return sendPage(res, 405, 'Sign-in failed', '<p>Method not allowed.</p>');

  const form = new URLSearchParams(await readBody(req));
  const username = form.get('username') ?? '';
  const user = findDevUser(username);
  if (!user || form.get('password') !== user.password) {
    logger.info({ username }, 'dev login refused');
    return sendPage(res, 401, 'Sign in', loginForm(uid, 'Unknown user or wrong password.'));
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.sub } },
    { mergeWithLastSubmission: false },
  );
}

async function readBody(req: IncomingMessage, limit = 10_000): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw Object.assign(new Error('request body too large'), { statusCode: 413 });
  }
  return body;
}
