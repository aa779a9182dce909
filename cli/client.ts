// The broker API: bearer token, JSON in and out, `{error:{code,message}}` as an ApiRefusal.
// Every POST that changes something carries an Idempotency-Key and is retried with the same key when
// the network fails or the API answers 502/503/504, so a retry never acts twice (never a second grant).
// node:http rather than fetch: on Node 20 the first fetch costs about 80 ms of start-up, and
// `jit creds` runs for every AWS CLI command.
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliConfig } from './config.js';
import { ApiRefusal, CliError, exitCodes, sessionExpired, Unreachable } from './errors.js';
import { providedTokenSource } from './provided-token.js';
import { accessToken } from './tokens.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface SendOptions {
  /** Give up after this long (default 60 s: decisions are answered within 20 s). */
  timeoutMs?: number;
  /** Attempts on a network failure or 502/503/504 (default 4; 1 = no retry). */
  attempts?: number;
}

/** Waits between attempts; the API restarting (503 while it drains) is the usual cause. */
const RETRY_DELAYS_MS = [250, 1000, 2000];
const RETRIED_STATUSES = new Set([502, 503, 504]);

class TimedOut extends Error {}

export class ApiClient {
  constructor(
    private readonly config: CliConfig,
    private readonly token: () => Promise<string> = () => accessToken(config),
  ) {}

  async get<T>(path: string, query?: Query, opts?: SendOptions): Promise<T> {
    return JSON.parse(await readText(await this.send('GET', path, query, undefined, opts))) as T;
  }

  /** A POST that changes something: one Idempotency-Key for all its attempts. */
  async post<T>(path: string, body: object = {}, opts?: SendOptions): Promise<T> {
    return JSON.parse(await this.postRaw(path, body, opts)) as T;
  }

  /** The response body as the API sent it, byte for byte (credential_process output). */
  async postRaw(path: string, body: object = {}, opts?: SendOptions): Promise<string> {
    return readText(await this.send('POST', path, undefined, body, opts));
  }

  /** A streamed response (audit export): the caller reads the body. */
  stream(path: string, query?: Query): Promise<IncomingMessage> {
    return this.send('GET', path, query);
  }

  private async send(
    method: string,
    path: string,
    query?: Query,
    body?: object,
    opts: SendOptions = {},
  ): Promise<IncomingMessage> {
    const url = new URL(`${this.config.apiUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}` };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (method === 'POST') headers['idempotency-key'] = `jit-${randomUUID()}`;
    const attempts = opts.attempts ?? 1 + RETRY_DELAYS_MS.length;
    for (let attempt = 1; ; attempt++) {
      let response: IncomingMessage | undefined;
      try {
        // A credential_process must never hang the AWS CLI.
        response = await exchange(url, method, headers, payload, opts.timeoutMs ?? 60_000);
      } catch (err) {
        // A timeout is not retried: the API is there but slow, and the caller has waited enough.
        const timedOut = err instanceof TimedOut;
        if (timedOut || attempt >= attempts) {
          throw new Unreachable(
            `the jit API at ${this.config.apiUrl} ${timedOut ? 'did not answer in time' : 'is not reachable'}; check --api or JIT_API_URL`,
          );
        }
      }
      const status = response?.statusCode ?? 0;
      if (response && status >= 200 && status < 300) return response;
      if (response && (!RETRIED_STATUSES.has(status) || attempt >= attempts))
        throw await refusal(response, this.config);
      response?.resume();
      await sleep(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1]);
    }
  }
}

/** One HTTP exchange: resolves with the response once its headers are in. */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  timeoutMs: number,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method, headers }, (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    const timer = setTimeout(() => req.destroy(new TimedOut()), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(payload);
  });
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function refusal(response: IncomingMessage, config: CliConfig): Promise<CliError> {
  const text = await readText(response).catch(() => '');
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {}
  // A token given for a script: a new login would not help, say why the API refused it.
  const source = providedTokenSource(config);
  if (response.statusCode === 401 && source) {
    const why = typeof error?.code === 'string' ? ` (${error.code}: ${String(error.message)})` : '';
    return new CliError(`the API refused the token from ${source}${why}`, exitCodes.login);
  }
  // The cached token looked fresh but the API disagrees (revoked, clock skew, another issuer).
  if (response.statusCode === 401) return sessionExpired();
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    return new ApiRefusal(error.code, error.message, response.statusCode ?? 0);
  }
  return new CliError(`the jit API answered HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
}
