// Worker RSS right after start-up and 10 s later, on the bench stack: `npx tsx bench/rss-probe.mts`.
import { readFileSync } from 'node:fs';
import { startBenchStack } from './lib/stack.js';

const stack = await startBenchStack(() => {});
const rssMb = () =>
  Math.round(
    Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${stack.workerPid}/status`, 'utf8'))?.[1]) / 1024,
  );
try {
  process.stdout.write(`worker RSS after start-up: ${rssMb()} MB\n`);
  await new Promise((r) => setTimeout(r, 10_000));
  process.stdout.write(`worker RSS 10 s later: ${rssMb()} MB\n`);
} finally {
  await stack.stop();
}
