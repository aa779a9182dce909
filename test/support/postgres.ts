// PostgreSQL for tests: the server `npm test` starts (test/run.ts exports its URL), and a fresh
// database per test so files running in parallel never share rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function testDatabaseUrl(): string {
  const url = process.env.JIT_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'JIT_TEST_DATABASE_URL is not set: run tests with `npm test` / `npx tsx test/run.ts test/<file>.test.ts`, ' +
        'or point it at a PostgreSQL server (e.g. one started with infra/postgres.ts startPostgres)',
    );
  }
  return url;
}

export const hasTestDatabase = () => Boolean(process.env.JIT_TEST_DATABASE_URL);

/** Creates a uniquely named database on the test server; drop() removes it (closing any sessions). */
export async function freshPostgresDatabase(
  prefix = 'jit_test',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const serverUrl = testDatabaseUrl();
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin(`drop database if exists "${name}" with (force)`),
  };
}
