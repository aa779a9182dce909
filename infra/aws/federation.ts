// The local stack's stand-in for AWS's console federation endpoint (signin.aws.amazon.com/federation),
// served by the dev issuer's process at /federation (AWS_FEDERATION_ENDPOINT in infra/stack.ts).
// Like AWS, `getSigninToken` takes session credentials and returns a sign-in token, refusing
// credentials AWS (here moto) does not accept; `login` then "signs in" and shows as whom, since
// there is no AWS console to land in. Dev only.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { escapeHtml, sendPage } from '../oidc/pages.js';

export const FEDERATION_PATH = '/federation';

// AWS sign-in tokens are good for 15 minutes.
const TOKEN_TTL_MS = 15 * 60_000;

interface SignIn {
  arn: string;
  account: string;
  accessKeyId: string;
  expiresAt: number;
}

export function federationStandIn(opts: { awsEndpoint: string; region: string }) {
  const tokens = new Map<string, SignIn>();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  async function getSigninToken(session: string | null, res: ServerResponse): Promise<void> {
    let credentials: { sessionId?: unknown; sessionKey?: unknown; sessionToken?: unknown };
    try {
      credentials = JSON.parse(session ?? '');
    } catch {
      return json(res, 400, { error: 'Session must be JSON with sessionId, sessionKey and sessionToken' });
    }
    const { sessionId, sessionKey, sessionToken } = credentials;
    if (typeof sessionId !== 'string' || typeof sessionKey !== 'string' || typeof sessionToken !== 'string')
      return json(res, 400, { error: 'Session must carry sessionId, sessionKey and sessionToken' });
    const sts = new STSClient({
      region: opts.region,
      endpoint: opts.awsEndpoint,
      credentials: { accessKeyId: sessionId, secretAccessKey: sessionKey, sessionToken },
    });
    try {
      const who = await sts.send(new GetCallerIdentityCommand({}));
      const token = randomBytes(24).toString('base64url');
      for (const [key, value] of tokens) if (value.expiresAt < Date.now()) tokens.delete(key);
      tokens.set(token, {
        arn: who.Arn ?? '',
        account: who.Account ?? '',
        accessKeyId: sessionId,
        expiresAt: Date.now() + TOKEN_TTL_MS,
      });
      return json(res, 200, { SigninToken: token });
    } catch {
      return json(res, 400, { error: 'the session credentials were refused' });
    } finally {
      sts.destroy();
    }
  }

  function login(params: URLSearchParams, res: ServerResponse) {
    const token = params.get('SigninToken') ?? '';
    const signIn = tokens.get(token);
    tokens.delete(token); // one use, like AWS
    if (!signIn || signIn.expiresAt < Date.now()) {
      return sendPage(
        res,
        400,
        'AWS sign-in failed',
        '<p>The sign-in token is unknown, used or expired.</p>',
      );
    }
    const destination = params.get('Destination') ?? '';
    sendPage(
      res,
      200,
      'AWS console (local stand-in)',
      `<p>Signed in as <code id="signed-in-arn">${escapeHtml(signIn.arn)}</code> in account ${escapeHtml(signIn.account)}.</p>
<p>Session <code>${escapeHtml(signIn.accessKeyId)}</code>, issued by ${escapeHtml(params.get('Issuer') ?? '')}.</p>
<p>On AWS this would open ${escapeHtml(destination)}.</p>`,
    );
  }

  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const action = url.searchParams.get('Action');
    if (req.method !== 'GET') return json(res, 405, { error: 'GET only' });
    if (action === 'getSigninToken') {
      void getSigninToken(url.searchParams.get('Session'), res);
      return;
    }
    if (action === 'login') return login(url.searchParams, res);
    json(res, 400, { error: 'Action must be getSigninToken or login' });
  };
}
