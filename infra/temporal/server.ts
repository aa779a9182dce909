import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { jitSearchAttributes } from '../../common/search-attributes.js';
import { dataDir, ensureDir } from '../paths.js';
import { type RunningService, startOrReuse } from '../process.js';
import { ensureTemporalCli } from './cli.js';

export async function temporalReachable(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
    return true;
  } finally {
    await connection.close();
  }
}

const cliType = { KEYWORD: 'Keyword', DATETIME: 'Datetime', KEYWORD_LIST: 'KeywordList' } as const;

/**
 * The Temporal dev server, by default with its SQLite file under .data/ so grants survive a
 * restart; tests pass `dbFile: null` for an in-memory server and `uiPort: null` for no Web UI.
 */
export function startTemporal(opts: {
  host: string;
  port: number;
  uiPort: number | null;
  /** Prometheus /metrics of the server; without it the server picks a random port. */
  metricsPort?: number;
  dbFile?: string | null;
  name?: string;
  log: (msg: string) => void;
  /** The broker's codec server, so the Web UI shows decoded payloads to people allowed to see them. */
  codecEndpoint?: string;
}): Promise<RunningService> {
  const address = `${opts.host}:${opts.port}`;
  const dbFile =
    opts.dbFile === undefined ? join(ensureDir(join(dataDir, 'temporal')), 'temporal.db') : opts.dbFile;
  const uiArgs =
    opts.uiPort === null
      ? ['--headless']
      : [
          '--ui-ip',
          opts.host,
          '--ui-port',
          String(opts.uiPort),
          ...(opts.codecEndpoint ? ['--ui-codec-endpoint', opts.codecEndpoint] : []),
        ];
  return startOrReuse({
    name: opts.name ?? 'temporal',
    url: address,
    ...(opts.uiPort === null ? {} : { uiUrl: `http://${opts.host}:${opts.uiPort}` }),
    ready: () => temporalReachable(address),
    timeoutMs: 60_000,
    start: () => ({
      command: ensureTemporalCli(opts.log),
      args: [
        'server',
        'start-dev',
        '--ip',
        opts.host,
        '--port',
        String(opts.port),
        ...uiArgs,
        ...(opts.metricsPort ? ['--metrics-port', String(opts.metricsPort)] : []),
        ...(dbFile ? ['--db-filename', dbFile] : []),
        '--log-level',
        'warn',
        ...jitSearchAttributes.flatMap((key) => [
          '--search-attribute',
          `${key.name}=${cliType[key.type as keyof typeof cliType]}`,
        ]),
      ],
    }),
  });
}
