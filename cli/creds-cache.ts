// The credentials cache of `jit creds`: the AWS CLI runs its credential_process for every command, and
// each fresh answer would be a new STS session, audit row and ledger entry. Entries live in
// <config dir>/cache/ (folder 0700, files 0600), one per grant and one per role for `--role`, and
// hold the credential_process JSON exactly as the API sent it.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliConfig } from './config.js';

export interface CacheEntry {
  /** The API the credentials came from, and whose they are (the token's `sub`). */
  apiUrl: string;
  sub: string;
  grantId: string;
  /** The credential_process JSON, byte for byte. */
  credentials: string;
  /** Its `Expiration`, ISO 8601. */
  expiration: string;
  savedAt: string;
}

export type CacheKey = { grant: string } | { role: string };

export const cacheDir = (config: CliConfig) => join(config.dir, 'cache');

/** A file name per key and API; never a path separator, whatever the role id holds. */
function entryPath(config: CliConfig, key: CacheKey): string {
  const [kind, name] = 'grant' in key ? ['grant', key.grant] : ['role', key.role];
  const api = createHash('sha256').update(config.apiUrl).digest('hex').slice(0, 12);
  const safe = name.replace(/[^\w.-]/g, '_').slice(0, 100);
  return join(cacheDir(config), `${kind}-${safe}-${api}.json`);
}

/** The entry for `key`, if it is for this API and this person. */
export function readEntry(config: CliConfig, key: CacheKey, sub: string): CacheEntry | undefined {
  try {
    const entry = JSON.parse(readFileSync(entryPath(config, key), 'utf8')) as CacheEntry;
    if (entry.apiUrl !== config.apiUrl || entry.sub !== sub) return undefined;
    if (typeof entry.credentials !== 'string' || Number.isNaN(Date.parse(entry.expiration))) return undefined;
    return entry;
  } catch {
    return undefined;
  }
}

export function writeEntries(config: CliConfig, keys: CacheKey[], entry: CacheEntry): void {
  const dir = cacheDir(config);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(config.dir, 0o700);
  chmodSync(dir, 0o700);
  for (const key of keys) {
    // Written aside and renamed: a concurrent reader never sees half a file.
    const path = entryPath(config, key);
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, path);
  }
}

/** Deletes every entry (grant or role) that holds credentials of `grantId`. */
export function dropGrant(config: CliConfig, grantId: string): void {
  let names: string[];
  try {
    names = readdirSync(cacheDir(config));
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const path = join(cacheDir(config), name);
    try {
      if ((JSON.parse(readFileSync(path, 'utf8')) as CacheEntry).grantId === grantId) rmSync(path);
    } catch {}
  }
}

/** Deletes the whole cache; true when there was one. */
export function wipe(config: CliConfig): boolean {
  const dir = cacheDir(config);
  let had = false;
  try {
    had = readdirSync(dir).some((name) => name.endsWith('.json'));
  } catch {}
  rmSync(dir, { recursive: true, force: true });
  return had;
}

/**
 * Runs `fn` holding a lock per key, so AWS SDKs that start several credential processes at once
 * mint one session, not one each. A lock older than `staleMs` is a crashed holder's and is taken over.
 */
export async function withLock<T>(
  config: CliConfig,
  key: CacheKey,
  fn: () => Promise<T>,
  opts = { waitMs: 20_000, staleMs: 60_000 },
): Promise<T> {
  mkdirSync(cacheDir(config), { recursive: true, mode: 0o700 });
  const lock = `${entryPath(config, key)}.lock`;
  const deadline = Date.now() + opts.waitMs;
  let held = false;
  while (!held) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      held = true;
    } catch {
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > opts.staleMs) rmSync(lock, { force: true });
      // Waited long enough: go on unlocked rather than fail the AWS CLI.
      else if (Date.now() > deadline) break;
      else await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    if (held) rmSync(lock, { force: true });
  }
}
