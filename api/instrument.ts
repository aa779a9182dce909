// Imported first by api/main.ts: tracing must hook `require` before fastify and the AWS SDK load.
import { startTracing } from '../platform/telemetry.js';

startTracing(process.env.OTEL_SERVICE_NAME ?? 'jit-broker-api');
