import { Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { temporalConnectionOptions } from '../common/temporal-connection.js';
import { buildServer } from './server.js';

const log = createLogger('api');

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const app = buildServer({
    logger: log,
    readiness: [
      {
        name: 'temporal',
        check: async () => {
          await connection.workflowService.getSystemInfo({});
        },
      },
    ],
  });

  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await app.close();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ host: config.API_HOST, port: config.API_PORT });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`api: ${err.message}\n`);
  } else {
    log.fatal({ err }, 'api failed');
  }
  process.exit(1);
});
