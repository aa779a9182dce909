import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatePayloadKey } from '../common/payload-codec.js';
import { dataDir, ensureDir } from './paths.js';

/** The local stack's payload encryption key, made once and kept in .data/ (mode 0600). */
export function devPayloadKeys(): string {
  const file = join(ensureDir(dataDir), 'payload-keys');
  if (!existsSync(file)) {
    writeFileSync(file, generatePayloadKey(`dev-${new Date().toISOString().slice(0, 10)}`), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}
