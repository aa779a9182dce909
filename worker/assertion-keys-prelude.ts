// The verification keys of signed assertions go into the workflow sandbox with the bundle: a
// prelude that sets one frozen global (read by workflows/assertion-keys.ts). They come from the
// worker's configuration, never from a payload, and are public keys, so nothing secret is baked in.
import { parseVerificationKeys } from '../common/assertion.js';
import { ASSERTION_KEYS_GLOBAL } from '../workflows/assertion-keys.js';

export function withAssertionKeys(bundle: { code: string }, verifyKeys: string): { code: string } {
  parseVerificationKeys(verifyKeys); // refuse a malformed list here, not in every validator
  const prelude = `Object.defineProperty(globalThis, ${JSON.stringify(ASSERTION_KEYS_GLOBAL)}, { value: ${JSON.stringify(verifyKeys)}, writable: false, configurable: false });\n`;
  return { code: prelude + bundle.code };
}
