// A small keep-alive HTTP client for the API (node:http: lighter per call than fetch, so the load
// generator's own cost stays small next to what it measures) and an open-loop fixed-rate load.
import { Agent, request } from 'node:http';
import { type Latency, latency, sleep } from './stats.js';

export interface ApiResponse {
  status: number;
  /** The JSON object answered, or `{ text }` when the body was not one. */
  body: Record<string, unknown>;
  ms: number;
}

export class ApiClient {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(baseUrl: string, maxSockets = 128) {
    this.base = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** One JSON request; never throws for an HTTP status, only for a network failure. */
  call(method: string, path: string, token: string, body?: unknown): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {}
            const body =
              parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : { text };
            resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like `call`, but throws unless the status is one of `ok`. */
  async expect(
    ok: number[],
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<ApiResponse> {
    const res = await this.call(method, path, token, body);
    if (!ok.includes(res.status)) {
      throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    return res;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface OpenLoopResult {
  /** From each request's scheduled start to its response: includes any queueing in the generator. */
  latency: Latency;
  /** From the actual send to the response. */
  service: Latency;
  sent: number;
  errors: number;
  statuses: Record<string, number>;
  achievedRate: number;
  /** How late the generator sent, at worst (its own lag, counted in `latency`). */
  maxSendLagMs: number;
}

/**
 * Sends `rate` requests per second for `seconds`, each at its scheduled time whatever the answers
 * (open loop, so a slow server cannot slow the load down and hide its own latency).
 */
export async function openLoop(
  api: ApiClient,
  opts: { rate: number; seconds: number; path: (i: number) => string; token: string },
): Promise<OpenLoopResult> {
  const total = Math.round(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const lat: number[] = [];
  const svc: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let maxSendLagMs = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - due);
    const sent = performance.now();
    inFlight.push(
      api.call('GET', opts.path(i), opts.token).then(
        (res) => {
          const done = performance.now();
          lat.push(done - due);
          svc.push(done - sent);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status !== 200) errors += 1;
        },
        () => {
          errors += 1;
          statuses.network = (statuses.network ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - t0) / 1000;
  return {
    latency: latency(lat),
    service: latency(svc),
    sent: total,
    errors,
    statuses,
    achievedRate: Math.round(total / elapsed),
    maxSendLagMs: Math.round(maxSendLagMs * 10) / 10,
  };
}
