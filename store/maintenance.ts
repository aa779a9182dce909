// `npm run read-model -- check | rebuild`: compares the grants read model with a fold of the
// audit trail, or replaces it by one (holding the append lock, so writers wait, nothing is lost).
// Reads DATABASE_URL like the API and the worker.
import { DEFAULT_DATABASE_URL } from '../platform/config.js';
import { openAuditStore } from './index.js';

async function main(): Promise<void> {
  const command = process.argv[2];
  if (command !== 'check' && command !== 'rebuild') {
    process.stderr.write('usage: npm run read-model -- check | rebuild\n');
    process.exit(64);
  }
  const store = await openAuditStore(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  try {
    if (command === 'rebuild') {
      const grants = await store.rebuildReadModel();
      process.stdout.write(`rebuilt the read model from the audit trail: ${grants} grants\n`);
      return;
    }
    const differences = await store.checkReadModel();
    if (differences.length === 0) {
      process.stdout.write('the read model matches the audit trail\n');
      return;
    }
    for (const d of differences.slice(0, 20)) process.stdout.write(`${d.grantId}: ${d.problem}\n`);
    process.stdout.write(`${differences.length} grants differ; run \`npm run read-model -- rebuild\`\n`);
    process.exitCode = 1;
  } finally {
    await store.close();
  }
}

void main();
