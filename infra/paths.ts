import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root; every local-stack file lives under it so nothing leaks into $HOME. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Runtime state (databases, logs, keys, pid files): git-ignored, safe to delete. */
export const dataDir = process.env.JIT_DATA_DIR ?? join(repoRoot, '.data');
/** Build caches (Temporal CLI binary, Go module cache, moto venv): git-ignored. */
export const cacheDir = process.env.JIT_CACHE_DIR ?? join(repoRoot, '.cache');
export const logsDir = join(dataDir, 'logs');

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
