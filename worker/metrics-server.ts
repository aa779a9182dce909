// The worker's /metrics: the broker's own metrics (prom-client) followed by the Temporal SDK's
// (task slots, schedule-to-start latency, sticky cache, workflow task failures), which the SDK's
// core serves on a loopback port of its own. One scrape target per worker.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export async function startMetricsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  /** The SDK's Prometheus endpoint (http://127.0.0.1:PORT/metrics). */
  sdkMetricsUrl: string;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.statusCode = 404;
      return res.end();
    }
    void (async () => {
      const own = await opts.registry.metrics();
      // The SDK's part is best effort: the broker's metrics still answer if it does not.
      const sdk = await fetch(opts.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) })
        .then((r) => (r.ok ? r.text() : ''))
        .catch(() => '');
      res.setHeader('content-type', opts.registry.contentType);
      res.end(`${own}\n${sdk}`);
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A free loopback port for the SDK's own Prometheus endpoint. */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
