// The front doors' half of signed assertions (common/assertion.ts): only processes that
// authenticate callers (API, Slack receiver, queue consumer) hold the private key.
import { createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { CompactSign } from 'jose';
import {
  ASSERTION_TTL_MS,
  type AssertionAction,
  type AssertionClaims,
  argsDigest,
  assertionHeader,
  type FrontDoor,
} from '../common/assertion.js';
import type { Principal } from '../common/grant.js';

export interface SigningKey {
  kid: string;
  key: KeyObject;
  /** Raw 32-byte public key, what workers verify with. */
  publicKey: Uint8Array;
}

/** Parses `JIT_ASSERTION_SIGNING_KEY`: `kid:base64(32-byte Ed25519 seed)`. */
export function parseSigningKey(text: string): SigningKey {
  const [kid, b64, extra] = text.trim().split(':');
  if (!kid || !b64 || extra !== undefined || !/^[\w.-]{1,64}$/.test(kid))
    throw new Error('must look like kid:base64 (a 32-byte Ed25519 seed)');
  const seed = Buffer.from(b64, 'base64');
  if (seed.length !== 32) throw new Error(`key ${kid} must decode to 32 bytes`);
  const publicKey = ed25519.getPublicKey(seed);
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: b64url(publicKey) },
    format: 'jwk',
  });
  return { kid, key, publicKey };
}

/** A fresh key pair: the signing key for front doors and the verification key for workers. */
export function generateSigningKey(kid: string): { signingKey: string; verificationKey: string } {
  const seed = randomBytes(32);
  return {
    signingKey: `${kid}:${seed.toString('base64')}`,
    verificationKey: `${kid}:${Buffer.from(ed25519.getPublicKey(seed)).toString('base64')}`,
  };
}

export const verificationKeyText = (key: SigningKey) =>
  `${key.kid}:${Buffer.from(key.publicKey).toString('base64')}`;

export interface Decision {
  grantId: string;
  action: AssertionAction;
  principal: Principal;
  verdict: { allowed: boolean; policyIds: string[] };
  updateId: string;
  /** The command's other arguments, exactly as sent. */
  args: Record<string, unknown>;
}

export class AssertionSigner {
  constructor(
    private readonly signingKey: SigningKey,
    private readonly door: FrontDoor,
    private readonly now: () => number = Date.now,
  ) {}

  /** Signs for `door` (a console or Slack decision is signed by the same process as the API). */
  async sign(decision: Decision, door: FrontDoor = this.door): Promise<string> {
    const iat = this.now();
    const claims: AssertionClaims = {
      v: 1,
      door,
      grantId: decision.grantId,
      action: decision.action,
      principal: decision.principal,
      verdict: decision.verdict,
      updateId: decision.updateId,
      argsDigest: argsDigest(decision.args),
      iat,
      exp: iat + ASSERTION_TTL_MS,
    };
    return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader(assertionHeader(this.signingKey.kid))
      .sign(this.signingKey.key);
  }
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
