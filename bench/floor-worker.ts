// The floor workflow's worker, a process of its own like the broker's worker:
// `tsx bench/floor-worker.ts <temporal address> <task queue>`; SIGTERM stops it.
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { brokerDataConverter } from '../platform/data-converter.js';
import { parsePayloadKeys } from '../platform/payload-codec.js';

const [address, taskQueue] = process.argv.slice(2);
const keys = process.env.JIT_PAYLOAD_KEYS;
if (!address || !taskQueue || !keys) {
  process.stderr.write(
    'usage: JIT_PAYLOAD_KEYS=... tsx bench/floor-worker.ts <temporal address> <task queue>\n',
  );
  process.exit(64);
}
// ERROR: the SDK warns that this worker has no activities, which is the point.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  taskQueue,
  // The same encrypting data converter as the broker's, so the floor pays what the broker pays.
  dataConverter: brokerDataConverter(parsePayloadKeys(keys)),
  workflowsPath: fileURLToPath(new URL('./floor-workflow.ts', import.meta.url)),
});
await worker.run();
await connection.close();
