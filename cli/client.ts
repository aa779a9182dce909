// The broker API over fetch: bearer token, JSON in and out, `{error:{code,message}}` as an ApiRefusal.
// Every POST that changes something carries an Idempotency-Key and is retried with the same key when
// the network fails or the API answers 502/503/504, so a retry never acts twice (never a second grant).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliConfig } from './config.js';
import { ApiRefusal, CliError, sessionExpired, Unreachable } from './errors.js';
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

export class ApiClient {
  constructor(
    private readonly config: CliConfig,
    private readonly token: () => Promise<string> = () => accessToken(config),
  ) {}

  get<T>(path: string, query?: Query, opts?: SendOptions): Promise<T> {
    return this.json<T>('GET', path, query, undefined, opts);
  }

  /** A POST that changes something: one Idempotency-Key for all its attempts. */
  post<T>(path: string, body: object = {}, opts?: SendOptions): Promise<T> {
    return this.json<T>('POST', path, undefined, body, opts);
  }

  /** The response body as the API sent it, byte for byte (credential_process output). */
  async postRaw(path: string, body: object = {}, opts?: SendOptions): Promise<string> {
    return (await this.send('POST', path, undefined, body, opts)).text();
  }

  /** A streamed response (audit export): the caller reads the body. */
  stream(path: string, query?: Query): Promise<Response> {
    return this.send('GET', path, query);
  }

  private async json<T>(
    method: string,
    path: string,
    query?: Query,
    body?: object,
    opts?: SendOptions,
  ): Promise<T> {
    return (await (await this.send(method, path, query, body, opts)).json()) as T;
  }

  private async send(
    method: string,
    path: string,
    query?: Query,
    body?: object,
    opts: SendOptions = {},
  ): Promise<Response> {
    const url = new URL(`${this.config.apiUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST') headers['idempotency-key'] = `jit-${randomUUID()}`;
    const attempts = opts.attempts ?? 1 + RETRY_DELAYS_MS.length;
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      try {
        response = await fetch(url, {
          method,
          headers,
          // A credential_process must never hang the AWS CLI.
          signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (err) {
        // A timeout is not retried: the API is there but slow, and the caller has waited enough.
        const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
        if (timedOut || attempt >= attempts) {
          throw new Unreachable(
            `the jit API at ${this.config.apiUrl} ${timedOut ? 'did not answer in time' : 'is not reachable'}; check --api or JIT_API_URL`,
          );
        }
      }
      if (response?.ok) return response;
      if (response && (!RETRIED_STATUSES.has(response.status) || attempt >= attempts)) {
        throw await refusal(response);
      }
      await response?.body?.cancel();
      await sleep(RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1]);
    }
  }
}

async function refusal(response: Response): Promise<CliError> {
  const text = await response.text();
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {}
  // The cached token looked fresh but the API disagrees (revoked, clock skew, another issuer).
  if (response.status === 401) return sessionExpired();
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    return new ApiRefusal(error.code, error.message, response.status);
  }
  return new CliError(`the jit API answered HTTP ${response.status}: ${text.slice(0, 200)}`);
}
