// Signed assertions: a front door (the API and its console, the Slack receiver, the queue consumer)
// authenticates the caller, evaluates Cedar and signs what it decided; the grant workflow verifies the
// signature synchronously in its update validators, so write access to the Temporal namespace alone
// can start nothing and decide nothing. Pure code: it runs inside the workflow sandbox.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64, base64urlnopad } from '@scure/base';
import { canonicalJson } from './canonical-json.js';
import type { Principal } from './grant.js';

export const assertionActions = [
  'request',
  'approve',
  'deny',
  'cancel',
  'revoke',
  'extend',
  'issueCredentials',
  'review',
  'nudge',
  'revokeAll',
] as const;
export type AssertionAction = (typeof assertionActions)[number];

/** Which front door signed: recorded with the decision. */
export type FrontDoor = 'api' | 'console' | 'slack' | 'queue';

/** The update id a start's assertion is bound to (a start is not an Update). */
export const START_UPDATE_ID = 'start';

/** What a front door signs. Times are milliseconds since the epoch. */
export interface AssertionClaims {
  v: 1;
  door: FrontDoor;
  grantId: string;
  action: AssertionAction;
  /** Who acts, as the front door authenticated them; the workflow takes the actor from here only. */
  principal: Principal;
  /** The Cedar verdict and the ids of the policies that determined it. */
  verdict: { allowed: boolean; policyIds: string[] };
  updateId: string;
  /** sha256 (hex) of the canonical JSON of the command's other arguments. */
  argsDigest: string;
  iat: number;
  exp: number;
}

/** Refusal codes: the API maps each to 403 (`assertion_*`) and logs it; none writes history. */
export type AssertionProblem =
  | 'assertion_missing'
  | 'assertion_invalid'
  | 'assertion_unknown_key'
  | 'assertion_expired'
  | 'assertion_mismatch';

export class AssertionError extends Error {
  override name = 'AssertionError';
  constructor(
    readonly code: AssertionProblem,
    message: string,
  ) {
    super(message);
  }
}

/** How long a signed assertion is good for, and the clock skew tolerated between signer and worker. */
export const ASSERTION_TTL_MS = 60_000;
export const ASSERTION_SKEW_MS = 30_000;
const JWS_TYPE = 'jit-assertion+jws';

/** Digest of a command's arguments (everything but the assertion itself), bound into the assertion. */
export function argsDigest(args: Record<string, unknown>): string {
  const { assertion: _ignored, ...rest } = args;
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(rest))));
}

/** Verification keys by key id: raw 32-byte Ed25519 public keys. */
export type VerificationKeys = ReadonlyMap<string, Uint8Array>;

/** Parses `kid:base64(32 bytes),...` (JIT_ASSERTION_VERIFY_KEYS); throws on anything else. */
export function parseVerificationKeys(text: string): Map<string, Uint8Array> {
  const keys = new Map<string, Uint8Array>();
  for (const entry of text.split(',')) {
    const [kid, b64, extra] = entry.trim().split(':');
    if (!kid || !b64 || extra !== undefined || !/^[\w.-]{1,64}$/.test(kid))
      throw new Error('each verification key must look like kid:base64');
    const key = base64.decode(b64);
    if (key.length !== 32) throw new Error(`verification key ${kid} must decode to 32 bytes`);
    keys.set(kid, key);
  }
  return keys;
}

export interface Expectation {
  grantId: string;
  action: AssertionAction;
  updateId: string;
  args: Record<string, unknown>;
  /** Workflow time, in milliseconds. */
  now: number;
}

/**
 * Checks a compact JWS (EdDSA) against the keys and what the command claims to be. Returns the
 * claims, or throws AssertionError. Deterministic for given inputs.
 */
export function verifyAssertion(jws: unknown, keys: VerificationKeys, expect: Expectation): AssertionClaims {
  if (typeof jws !== 'string' || jws.length === 0)
    throw new AssertionError('assertion_missing', 'the command carries no signed assertion');
  const parts = jws.split('.');
  if (parts.length !== 3 || jws.length > 16_384)
    throw new AssertionError('assertion_invalid', 'the assertion is not a compact JWS');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown; typ?: unknown };
  let claims: AssertionClaims;
  let signature: Uint8Array;
  try {
    header = JSON.parse(decodeText(headerPart));
    claims = JSON.parse(decodeText(payloadPart));
    signature = base64urlnopad.decode(signaturePart);
  } catch {
    throw new AssertionError('assertion_invalid', 'the assertion cannot be decoded');
  }
  if (header.alg !== 'EdDSA' || header.typ !== JWS_TYPE || typeof header.kid !== 'string')
    throw new AssertionError('assertion_invalid', 'the assertion header is not an EdDSA jit assertion');
  const key = keys.get(header.kid);
  if (!key) throw new AssertionError('assertion_unknown_key', `no verification key ${header.kid}`);
  const signed = utf8ToBytes(`${headerPart}.${payloadPart}`);
  let valid = false;
  try {
    valid = ed25519.verify(signature, signed, key);
  } catch {
    valid = false;
  }
  if (!valid) throw new AssertionError('assertion_invalid', 'the assertion signature does not verify');
  checkClaims(claims, expect);
  return claims;
}

function checkClaims(claims: AssertionClaims, expect: Expectation): void {
  const wellFormed =
    claims !== null &&
    typeof claims === 'object' &&
    claims.v === 1 &&
    typeof claims.exp === 'number' &&
    typeof claims.iat === 'number' &&
    typeof claims.principal?.sub === 'string' &&
    Array.isArray(claims.principal.groups) &&
    typeof claims.verdict?.allowed === 'boolean' &&
    Array.isArray(claims.verdict.policyIds);
  if (!wellFormed) throw new AssertionError('assertion_invalid', 'the assertion claims are malformed');
  if (claims.exp <= expect.now || claims.iat > expect.now + ASSERTION_SKEW_MS)
    throw new AssertionError('assertion_expired', 'the assertion has expired; sign again');
  if (claims.exp - claims.iat > ASSERTION_TTL_MS + ASSERTION_SKEW_MS)
    throw new AssertionError('assertion_invalid', 'the assertion lives longer than allowed');
  const mismatch =
    claims.grantId !== expect.grantId
      ? 'grant'
      : claims.action !== expect.action
        ? 'action'
        : claims.updateId !== expect.updateId
          ? 'update id'
          : claims.argsDigest !== argsDigest(expect.args)
            ? 'arguments'
            : undefined;
  if (mismatch)
    throw new AssertionError('assertion_mismatch', `the assertion was signed for another ${mismatch}`);
}

function decodeText(part: string): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(base64urlnopad.decode(part));
}

/** The JWS protected header a signer must use (so signer and verifier agree on one place). */
export const assertionHeader = (kid: string) => ({ alg: 'EdDSA', typ: JWS_TYPE, kid });

/**
 * The claims of an assertion that a validator already verified (an accepted Update), read without
 * checking the signature again: on replay validators do not run, and keys may have rotated since.
 */
export function readVerifiedClaims(jws: string): AssertionClaims {
  const payload = jws.split('.')[1] ?? '';
  return JSON.parse(decodeText(payload)) as AssertionClaims;
}
