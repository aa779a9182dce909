// The local stack's keys, made once and kept in .data/ (mode 0600): the payload encryption key, the
// assertion signing key with its verification key, and the console's session key. Dev only; production keys come from a secret
// store (README, "Keys").
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey } from '../platform/assertion-signer.js';
import { generatePayloadKey } from '../platform/payload-codec.js';
import { dataDir, ensureDir } from './paths.js';

const today = () => new Date().toISOString().slice(0, 10);

function kept(name: string, make: () => string): string {
  const file = join(ensureDir(dataDir), name);
  if (!existsSync(file)) {
    writeFileSync(file, make(), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

export function devPayloadKeys(): string {
  return kept('payload-keys', () => generatePayloadKey(`dev-${today()}`));
}

/** The console's session key (JIT_CONSOLE_SESSION_KEYS): signs session cookies, encrypts sessions. */
export function devConsoleKeys(): string {
  return kept('console-session-keys', () => generatePayloadKey(`dev-${today()}`));
}

/** `{ signingKey, verificationKey }` in the formats of JIT_ASSERTION_SIGNING_KEY / _VERIFY_KEYS. */
export function devAssertionKeys(): { signingKey: string; verificationKey: string } {
  const text = kept('assertion-keys.json', () => JSON.stringify(generateSigningKey(`dev-${today()}`)));
  return JSON.parse(text) as { signingKey: string; verificationKey: string };
}
