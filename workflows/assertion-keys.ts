// The verification keys of signed assertions, as the worker's configuration put them into the
// workflow sandbox (worker/assertion-keys-prelude.ts prepends them to the bundle). Never from a payload.
import { parseVerificationKeys, type VerificationKeys } from '../common/assertion.js';

export const ASSERTION_KEYS_GLOBAL = '__JIT_ASSERTION_VERIFY_KEYS__';

let cached: { text: string; keys: VerificationKeys } | undefined;

/** The keys; empty when the worker set none, so every signed command is refused. */
export function verificationKeys(): VerificationKeys {
  const text = (globalThis as Record<string, unknown>)[ASSERTION_KEYS_GLOBAL];
  if (typeof text !== 'string' || text === '') return new Map();
  if (cached?.text !== text) cached = { text, keys: parseVerificationKeys(text) };
  return cached.keys;
}
