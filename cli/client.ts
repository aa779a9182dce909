// The broker API over fetch: bearer token, JSON in and out, `{error:{code,message}}` as an ApiRefusal.
import type { CliConfig } from './config.js';
import { ApiRefusal, CliError, exitCodes, sessionExpired } from './errors.js';
import { providedTokenSource } from './provided-token.js';
import { accessToken } from './tokens.js';

export type Query = Record<string, string | number | boolean | undefined>;

export class ApiClient {
  constructor(
    private readonly config: CliConfig,
    private readonly token: () => Promise<string> = () => accessToken(config),
  ) {}

  get<T>(path: string, query?: Query): Promise<T> {
    return this.json<T>('GET', path, query);
  }

  post<T>(path: string, body: object = {}): Promise<T> {
    return this.json<T>('POST', path, undefined, body);
  }

  /** The response body as the API sent it, byte for byte (credential_process output). */
  async postRaw(path: string, body: object = {}): Promise<string> {
    return (await this.send('POST', path, undefined, body)).text();
  }

  /** A streamed response (audit export): the caller reads the body. */
  stream(path: string, query?: Query): Promise<Response> {
    return this.send('GET', path, query);
  }

  private async json<T>(method: string, path: string, query?: Query, body?: object): Promise<T> {
    return (await (await this.send(method, path, query, body)).json()) as T;
  }

  private async send(method: string, path: string, query?: Query, body?: object): Promise<Response> {
    const url = new URL(`${this.config.apiUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        // A credential_process must never hang the AWS CLI; the API answers decisions within 20 s.
        signal: AbortSignal.timeout(60_000),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new CliError(`the jit API at ${this.config.apiUrl} is not reachable; check --api or JIT_API_URL`);
    }
    if (response.ok) return response;
    throw await refusal(response, this.config);
  }
}

async function refusal(response: Response, config: CliConfig): Promise<CliError> {
  const text = await response.text();
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {}
  // A token given for a script: a new login would not help, say why the API refused it.
  const source = providedTokenSource(config);
  if (response.status === 401 && source) {
    const why = typeof error?.code === 'string' ? ` (${error.code}: ${String(error.message)})` : '';
    return new CliError(`the API refused the token from ${source}${why}`, exitCodes.login);
  }
  // The cached token looked fresh but the API disagrees (revoked, clock skew, another issuer).
  if (response.status === 401) return sessionExpired();
  if (typeof error?.code === 'string' && typeof error.message === 'string') {
    return new ApiRefusal(error.code, error.message, response.status);
  }
  return new CliError(`the jit API answered HTTP ${response.status}: ${text.slice(0, 200)}`);
}
