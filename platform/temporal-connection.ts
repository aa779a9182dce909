import type { Config } from './config.js';

/** Connection options shared by the API's client and the worker: TLS and API key for a cluster or Cloud. */
export function temporalConnectionOptions(config: Config) {
  const tls = config.TEMPORAL_TLS || Boolean(config.TEMPORAL_API_KEY);
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls ? { tls: true as const } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}
