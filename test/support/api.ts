// The real API server on a free port, wired to a test broker and the test stack's OIDC issuer.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PayloadCodec } from '@temporalio/common';
import { pino } from 'pino';
import { createAuthenticator, defaultPersonIssuer, type IssuerConfig, parseIssuers } from '../../api/auth.js';
import type { ConsoleSettings } from '../../api/console/index.js';
import { GrantService } from '../../api/grant-service.js';
import { buildServer } from '../../api/server.js';
import { CONSOLE_CLIENT_ID, CONSOLE_CLIENT_SECRET } from '../../infra/oidc/console-client.js';
import { clientCredentialsToken, devIssuersYaml, findDevClient } from '../../infra/oidc/dev-clients.js';
import { deviceLogin } from '../../infra/oidc/device-login.js';
import { freePort } from '../../infra/process.js';
import { fileDirectory } from '../../integrations/directory.js';
import { createSlackClient } from '../../integrations/slack/client.js';
import { parsePayloadKeys } from '../../platform/payload-codec.js';
import { openAuditStore } from '../../store/index.js';
import type { DevUserName, TestBroker } from './broker.js';
import { testDataConverter, testStack } from './stack.js';

/** A dev user, or a dev workload client (client-credentials token). */
export type Caller = DevUserName | 'ci-deployer' | 'ai-agent' | 'deploy-runner';

export interface TestApi {
  url: string;
  token(user: Caller): Promise<string>;
  /** A JSON request as `user` (or anonymous); returns status, headers and parsed body. */
  call(
    method: string,
    path: string,
    opts?: { user?: Caller; body?: unknown; headers?: Record<string, string>; rawBody?: string },
  ): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

const tokens = new Map<string, Promise<string>>();

/** Stands in for AWS's federation endpoint: hands out a sign-in token, records what it saw. */
export async function startFakeFederation(): Promise<{
  url: string;
  sessions: unknown[];
  close(): Promise<void>;
}> {
  const sessions: unknown[] = [];
  const server = createServer((req, res) => {
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    if (params.get('Action') !== 'getSigninToken') {
      res.statusCode = 400;
      return res.end();
    }
    sessions.push(JSON.parse(params.get('Session') ?? '{}'));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ SigninToken: 'fake-signin-token' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/federation`;
  return { url, sessions, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The tests' console session key: fixed, protects nothing but test sessions. */
export const testConsoleKeys = 'test-console:ZGV2LW9ubHktdGVzdC1jb25zb2xlLXNlc3Npb24ta2U=';

export interface TestConsoleOptions {
  /** The console's public URL; default the test API's own. Replicas behind one URL share it. */
  publicUrl?: string;
  maxSessionSeconds?: number;
}

export async function startTestApi(
  broker: TestBroker,
  federationEndpoint = 'http://127.0.0.1:9/federation',
  opts: {
    slack?: { signingSecret: string; botToken: string; apiUrl: string; directoryFile?: string };
    /** More trusted issuers (default: the dev issuer's workload clients, as `npm start` has them). */
    issuers?: IssuerConfig[];
    /** Serve the web console too, signing in through the test stack's dev issuer. */
    console?: TestConsoleOptions;
    /** Collects the API's log lines (info and up) here. */
    logLines?: string[];
  } = {},
): Promise<TestApi> {
  const stack = testStack();
  // The console needs its URL before the server is built (redirect URI, accepted origin).
  const port = opts.console ? await freePort() : 0;
  const consoleSettings: ConsoleSettings | undefined = opts.console && {
    publicUrl: opts.console.publicUrl ?? `http://127.0.0.1:${port}/`,
    issuer: stack.oidcIssuer,
    clientId: CONSOLE_CLIENT_ID,
    clientSecret: CONSOLE_CLIENT_SECRET,
    scopes: 'openid profile email groups offline_access',
    sessionKeys: parsePayloadKeys(testConsoleKeys),
    maxSessionSeconds: opts.console.maxSessionSeconds ?? 12 * 3600,
    federationEndpoint,
  };
  const store = await openAuditStore(broker.auditDatabaseUrl);
  const authenticator = createAuthenticator({
    issuers: [
      defaultPersonIssuer({ issuer: stack.oidcIssuer, audience: 'jit-broker-api', groupsClaim: 'groups' }),
      ...(opts.issuers ?? parseIssuers(devIssuersYaml(stack.oidcIssuer), 'dev issuers')),
    ],
    resolveWorkload: (issuer, attributes) => broker.engine.workloads.forToken(issuer, attributes)?.name,
  });
  const app = await buildServer({
    logger: opts.logLines
      ? pino({ level: 'info' }, { write: (line: string) => void opts.logLines?.push(line) })
      : pino({ level: process.env.JIT_TEST_API_LOG ?? 'silent' }),
    authenticator,
    engine: broker.engine,
    store,
    grants: new GrantService({
      grants: broker.grants,
      store,
      engine: broker.engine,
      console: { federationEndpoint, destination: 'https://console.aws.amazon.com/' },
    }),
    codec: {
      codec: testDataConverter().payloadCodecs?.[0] as PayloadCodec,
      corsOrigins: ['http://127.0.0.1:8233'],
    },
    readiness: [
      { name: 'audit store', check: () => store.ping() },
      {
        name: 'worker',
        check: async () => {
          if (!(await broker.grants.workerPolls())) throw new Error('no worker polls the task queue');
        },
      },
    ],
    ...(consoleSettings ? { console: consoleSettings } : {}),
    ...(opts.slack
      ? {
          slack: {
            signingSecret: opts.slack.signingSecret,
            botToken: opts.slack.botToken,
            client: createSlackClient({
              botToken: opts.slack.botToken,
              apiUrl: opts.slack.apiUrl,
              timeoutMs: 2000,
            }),
            directory: opts.slack.directoryFile ? fileDirectory(opts.slack.directoryFile) : undefined,
          },
        }
      : {}),
  });
  await app.listen({ host: '127.0.0.1', port });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const token = (user: Caller) => {
    let t = tokens.get(user);
    if (!t) {
      t = findDevClient(user)
        ? clientCredentialsToken(stack.oidcIssuer, user)
        : deviceLogin({ issuer: stack.oidcIssuer, user }).then((r) => r.access_token);
      tokens.set(user, t);
    }
    return t;
  };

  return {
    url,
    token,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.user) headers.authorization = `Bearer ${await token(opts.user)}`;
      let body: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.body);
      }
      const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
}
