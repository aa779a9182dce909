// A private PostgreSQL server for tests and the local stack: its own cluster under a data dir,
// listening on 127.0.0.1 only, its socket inside that dir, so it never touches a system cluster.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import pg from 'pg';
import { findOnPath, PrerequisiteError } from './process.js';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/jit_audit` */
  url: string;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  log: (msg: string) => void;
  /** fsync and synchronous commit off: fine for throwaway test clusters, never for real data. */
  relaxedDurability?: boolean;
}

export const DATABASE_NAME = 'jit_audit';
const SUPERUSER = 'postgres';
const OS_USER = 'postgres';
// sun_path is 108 bytes with its NUL.
const MAX_SOCKET_PATH = 107;

interface Binaries {
  pgCtl: string;
  initdb: string;
}

/** pg_ctl and initdb from the newest /usr/lib/postgresql/<ver>/bin, else from PATH. */
function findBinaries(): Binaries | undefined {
  const candidates: string[] = [];
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debianRoot, v, 'bin')));
  }
  // PATH entries are often symlinks into the real bin dir; resolve so initdb finds `postgres`.
  const onPath = findOnPath('pg_ctl');
  if (onPath) candidates.push(dirname(realpathSync(onPath)));
  for (const dir of candidates) {
    const has = (name: string) => existsSync(join(dir, name));
    if (has('pg_ctl') && has('initdb') && has('postgres')) {
      return { pgCtl: join(dir, 'pg_ctl'), initdb: join(dir, 'initdb') };
    }
  }
  return undefined;
}

const isRoot = () => process.getuid?.() === 0;

function installWithApt(logFile: string, log: (msg: string) => void): void {
  if (!isRoot() || !findOnPath('apt-get')) {
    throw new PrerequisiteError(
      'PostgreSQL server binaries (pg_ctl, initdb, postgres) not found under /usr/lib/postgresql/*/bin or on PATH. ' +
        'Install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`) or put its bin directory on PATH.',
    );
  }
  log('installing PostgreSQL with apt-get (once)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  runLogged(logFile, 'apt-get', ['update'], { env });
  runLogged(logFile, 'apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env });
}

function runLogged(
  logFile: string,
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; allowFailure?: boolean } = {},
): SpawnSyncReturns<Buffer> {
  const fd = openSync(logFile, 'a');
  try {
    const result = spawnSync(command, args, { stdio: ['ignore', fd, fd], env: opts.env, cwd: opts.cwd });
    if (result.status !== 0 && !opts.allowFailure) {
      const what = [command, ...args].join(' ');
      throw new PrerequisiteError(
        `\`${what}\` failed (exit ${result.status ?? result.signal}); see ${logFile}`,
      );
    }
    return result;
  } finally {
    closeSync(fd);
  }
}

/**
 * initdb and postgres refuse to run as root: as root, every server command runs as the
 * `postgres` OS user (created by the Debian package) via runuser, and the data dir is theirs.
 */
function serverCommand(command: string, args: string[]): [string, string[]] {
  if (!isRoot()) return [command, args];
  const runuser = findOnPath('runuser') ?? ['/usr/sbin/runuser', '/sbin/runuser'].find(existsSync);
  if (runuser) return [runuser, ['-u', OS_USER, '--', command, ...args]];
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  return ['su', [OS_USER, '-s', '/bin/sh', '-c', quoted]];
}

/**
 * Where a cluster wanted at `preferred` can live. As root, the server runs as the `postgres` OS user,
 * which must be able to reach it; a checkout under a private folder (a fresh clone in a 0700 temp
 * folder, a home directory) is not reachable, so the cluster goes under the system temp folder
 * instead, in a folder named after `preferred` so each checkout keeps its own.
 */
export function reachableDataDir(preferred: string): string {
  if (!isRoot() || spawnSync('id', ['-u', OS_USER]).status !== 0) return preferred;
  mkdirSync(dirname(preferred), { recursive: true });
  const [cmd, args] = serverCommand('test', ['-x', dirname(preferred)]);
  if (spawnSync(cmd, args).status === 0) return preferred;
  const digest = createHash('sha256').update(preferred).digest('hex').slice(0, 12);
  const parent = join(tmpdir(), `jit-broker-${digest}`);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  chmodSync(parent, 0o755);
  return join(parent, basename(preferred));
}

function prepareOwnership(dataDir: string, logFile: string): void {
  if (!isRoot()) return;
  if (spawnSync('id', ['-u', OS_USER]).status !== 0) {
    throw new PrerequisiteError(
      `running as root, PostgreSQL must run as the \`${OS_USER}\` OS user, which does not exist; ` +
        'install the Debian `postgresql` package (it creates the user) or run as a normal user',
    );
  }
  const chown = spawnSync('chown', ['-R', `${OS_USER}:${OS_USER}`, dataDir, logFile]);
  if (chown.status !== 0) throw new PrerequisiteError(`could not chown ${dataDir} to ${OS_USER}`);
  const [cmd, args] = serverCommand('test', ['-w', dataDir]);
  if (spawnSync(cmd, args).status !== 0) {
    throw new PrerequisiteError(
      `the \`${OS_USER}\` OS user cannot reach ${dataDir}: a parent directory is not searchable by others ` +
        '(chmod o+x it, or put the data dir elsewhere)',
    );
  }
}

function initCluster(bin: Binaries, cluster: string, logFile: string, log: (msg: string) => void): void {
  if (existsSync(join(cluster, 'PG_VERSION'))) return;
  // No PG_VERSION: an initdb that died half way; its leftovers would make initdb refuse.
  rmSync(cluster, { recursive: true, force: true });
  mkdirSync(cluster, { recursive: true, mode: 0o700 });
  if (isRoot()) spawnSync('chown', [`${OS_USER}:${OS_USER}`, cluster]);
  log(`initdb ${cluster}`);
  const [cmd, args] = serverCommand(bin.initdb, [
    '-D',
    cluster,
    '-U',
    SUPERUSER,
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
  ]);
  runLogged(logFile, cmd, args, { cwd: dirname(cluster) });
  // Trust only for the private socket and loopback; the server listens on nothing else.
  writeFileSync(
    join(cluster, 'pg_hba.conf'),
    [
      '# written by infra/postgres.ts: a local test/dev cluster, loopback only',
      'local all all trust',
      'host all all 127.0.0.1/32 trust',
      'host all all ::1/128 trust',
      '',
    ].join('\n'),
  );
  if (isRoot()) spawnSync('chown', [`${OS_USER}:${OS_USER}`, join(cluster, 'pg_hba.conf')]);
}

function serverOptions(opts: PostgresOptions, socketDir: string, log: (msg: string) => void): string {
  // pg_ctl hands -o to a shell; the socket dir is the one path in it.
  if (socketDir.includes("'"))
    throw new PrerequisiteError(`data dir path must not contain a quote: ${socketDir}`);
  const socketPath = join(socketDir, `.s.PGSQL.${opts.port}`);
  let sockets = `'${socketDir}'`;
  if (socketPath.length > MAX_SOCKET_PATH) {
    log(`postgres: ${socketPath} is too long for a unix socket; TCP only`);
    sockets = "''";
  }
  const settings = [
    `-c listen_addresses=127.0.0.1`,
    `-p ${opts.port}`,
    `-c unix_socket_directories=${sockets}`,
    '-c max_connections=200',
    ...(opts.relaxedDurability
      ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']
      : []),
  ];
  return settings.join(' ');
}

async function waitForConnection(adminUrl: string, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new PrerequisiteError(
          `postgres not reachable after ${timeoutMs} ms (${String(err)}); see ${logFile}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

/**
 * Finds (or, as root on Debian, installs) PostgreSQL, creates a cluster in `dataDir/cluster`
 * once, starts it on 127.0.0.1:`port` and returns the URL of database `jit_audit`.
 * Output goes to `<dataDir>/../logs/<basename(dataDir)>.log`.
 */
export async function startPostgres(opts: PostgresOptions): Promise<PostgresServer> {
  const { dataDir, port, log } = opts;
  const logsDir = join(dirname(dataDir), 'logs');
  mkdirSync(logsDir, { recursive: true });
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(logsDir, `${basename(dataDir)}.log`);
  closeSync(openSync(logFile, 'a'));

  let bin = findBinaries();
  if (!bin) {
    installWithApt(logFile, log);
    bin = findBinaries();
    if (!bin) throw new PrerequisiteError(`PostgreSQL installed but pg_ctl not found; see ${logFile}`);
  }
  const cluster = join(dataDir, 'cluster');
  const socketDir = join(dataDir, 'socket');
  mkdirSync(socketDir, { recursive: true });
  prepareOwnership(dataDir, logFile);
  initCluster(bin, cluster, logFile, log);

  const pgCtl = (args: string[], allowFailure = false) => {
    const [cmd, full] = serverCommand(bin.pgCtl, args);
    return runLogged(logFile, cmd, full, { cwd: dataDir, allowFailure });
  };
  // A server left running by an earlier run (crash, kill -9) holds the cluster; restart it on our port.
  if (pgCtl(['status', '-D', cluster], true).status === 0) {
    log('postgres: stopping a server left running in this data dir');
    pgCtl(['stop', '-D', cluster, '-m', 'fast', '-w']);
  }
  log(`postgres: starting on 127.0.0.1:${port}`);
  pgCtl(['start', '-D', cluster, '-l', logFile, '-w', '-t', '60', '-o', serverOptions(opts, socketDir, log)]);

  const stop = async () => {
    if (pgCtl(['status', '-D', cluster], true).status === 0)
      pgCtl(['stop', '-D', cluster, '-m', 'fast', '-w']);
  };
  try {
    const server = `postgres://${SUPERUSER}@127.0.0.1:${port}`;
    await waitForConnection(`${server}/postgres`, 30_000, logFile);
    await ensureDatabase(`${server}/postgres`, DATABASE_NAME);
    return { url: `${server}/${DATABASE_NAME}`, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
