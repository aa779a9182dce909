// A real HTTP hop between the CLI and the test API that can misbehave the way networks and restarts
// do: refuse every connection (API down), drop the response of a request after the API has handled it
// (a reset mid-answer), or answer 503 once (an API draining for a restart). It records what it saw.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

type Rule = { method: string; path: RegExp; action: 'drop-response' | 'answer-503' };

export interface FlakyProxy {
  url: string;
  seen: Seen[];
  /** What the API answered to requests whose answers were dropped. */
  dropped: { path: string; status: number; body: string }[];
  /** Every connection is reset at once while down. */
  down: boolean;
  /** The next request matching `method` and `path` misbehaves once. */
  once(method: string, path: RegExp, action: Rule['action']): void;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const upstream = new URL(target);
  const rules: Rule[] = [];
  const proxy: FlakyProxy = {
    url: '',
    seen: [],
    dropped: [],
    down: false,
    once: (method, path, action) => rules.push({ method, path, action }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    if (proxy.down) {
      req.socket.destroy();
      return;
    }
    const path = req.url ?? '/';
    proxy.seen.push({ method: req.method ?? '', path, headers: req.headers });
    const index = rules.findIndex((r) => r.method === req.method && r.path.test(path));
    const rule = index >= 0 ? rules.splice(index, 1)[0] : undefined;
    if (rule?.action === 'answer-503') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}');
      return;
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers },
      (answer) => {
        if (rule?.action === 'drop-response') {
          // The API has done the work; the caller never hears of it.
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            proxy.dropped.push({ path, status: answer.statusCode ?? 0, body });
            req.socket.destroy();
          });
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => req.socket.destroy());
    req.pipe(forward);
  });
  // Connections the test left open must not keep close() waiting.
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
