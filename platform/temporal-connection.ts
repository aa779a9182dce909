import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { type Config, ConfigError } from './config.js';

type TemporalSettings = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_API_KEY'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT'
  | 'TEMPORAL_TLS_KEY'
  | 'TEMPORAL_TLS_CA'
  | 'TEMPORAL_TLS_SERVER_NAME'
>;

/** A PEM file named by a setting, read at start so a wrong path stops the process with its name. */
function pem(variable: string, path: string): Buffer {
  try {
    const content = readFileSync(path);
    if (!content.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return content;
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  ${variable}: cannot read ${path} (${(err as Error).message})`,
    );
  }
}

/**
 * Connection options shared by the API, the queue door and the worker (client and native
 * connections take the same shape): TLS, mTLS, a custom CA and an API key, for a self-hosted
 * cluster or Temporal Cloud.
 */
export function temporalConnectionOptions(config: TemporalSettings): {
  address: string;
  tls?: TLSConfig | true;
  apiKey?: string;
} {
  const details: TLSConfig = {
    ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
    ...(config.TEMPORAL_TLS_CA
      ? { serverRootCACertificate: pem('TEMPORAL_TLS_CA', config.TEMPORAL_TLS_CA) }
      : {}),
    ...(config.TEMPORAL_TLS_CERT && config.TEMPORAL_TLS_KEY
      ? {
          clientCertPair: {
            crt: pem('TEMPORAL_TLS_CERT', config.TEMPORAL_TLS_CERT),
            key: pem('TEMPORAL_TLS_KEY', config.TEMPORAL_TLS_KEY),
          },
        }
      : {}),
  };
  const tls =
    Object.keys(details).length > 0 ? details : config.TEMPORAL_TLS || Boolean(config.TEMPORAL_API_KEY);
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(tls === false ? {} : { tls }),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
}
