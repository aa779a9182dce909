// Runs the dev OIDC issuer on its own: `npx tsx infra/oidc/server.ts`. Env: OIDC_PORT (4444),
// OIDC_HOST (127.0.0.1), OIDC_ISSUER (defaults to http://<host>:<port>); with AWS_ENDPOINT_URL
// (moto) it also serves the AWS console federation stand-in at /federation.
import { pino } from 'pino';
import { startDevIssuer } from './issuer.js';

const logger = pino({ name: 'dev-oidc' });
const port = Number(process.env.OIDC_PORT || 4444);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  logger.fatal(`OIDC_PORT must be a port number, got "${process.env.OIDC_PORT}"`);
  process.exit(1);
}

try {
  const issuer = await startDevIssuer({
    host: process.env.OIDC_HOST || undefined,
    port,
    issuer: process.env.OIDC_ISSUER || undefined,
    logger,
    ...(process.env.AWS_ENDPOINT_URL
      ? {
          federation: {
            awsEndpoint: process.env.AWS_ENDPOINT_URL,
            region: process.env.AWS_REGION || 'us-east-1',
          },
        }
      : {}),
  });
  logger.info({ url: issuer.url }, `dev OIDC issuer listening on ${issuer.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      issuer.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'dev OIDC issuer did not close cleanly');
          process.exit(1);
        },
      );
    });
  }
} catch (err) {
  logger.fatal(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
