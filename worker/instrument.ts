// Imported first by worker/main.ts: tracing must hook `require` before the AWS SDK loads.
import { startTracing } from '../platform/telemetry.js';

startTracing(process.env.OTEL_SERVICE_NAME ?? 'jit-broker-worker');
