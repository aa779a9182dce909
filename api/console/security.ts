// The console's browser-facing defences beyond the session cookie: a strict Content-Security-Policy
// (no inline script or style, nothing from another origin), and a refusal of state-changing
// requests that come from another origin, before the CSRF token is even checked.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSettings } from './options.js';

/** CSP directives (helmet's names). Forms may lead to the issuer (sign-out) and AWS (console sign-in). */
export function contentSecurityPolicy(settings: ConsoleSettings): Record<string, string[]> {
  const issuer = new URL(settings.issuer).origin;
  const federation = new URL(settings.federationEndpoint).origin;
  return {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    // A form's redirect counts too: sign-out goes on to the issuer, "AWS console" to the federation endpoint.
    formAction: ["'self'", issuer, federation],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * onRequest: a POST (or any unsafe method) whose Origin is not the console's is refused, whatever
 * cookie it carries; without an Origin header, a browser's Sec-Fetch-Site must say same-origin.
 */
export function refuseCrossOrigin(publicUrl: string) {
  const origin = new URL(publicUrl).origin;
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (SAFE_METHODS.has(req.method)) return;
    const from = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    const sameOrigin = from !== undefined ? from === origin : site === undefined || site === 'same-origin';
    if (sameOrigin) return;
    req.log.warn({ origin: from, site }, 'console request from another origin refused');
    return reply
      .code(403)
      .header('content-type', 'text/plain; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(`Refused: this request came from another site (${origin} only). Nothing was changed.\n`);
  };
}
