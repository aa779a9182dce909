// Key hygiene at start-up. A worker or API whose payload keys cannot read what the others write
// would fail other grants' tasks ("unable to authenticate data"); a worker missing a front door's
// verification key would refuse every decision it signs. Both refuse to start instead, naming the
// key. Canaries live in the audit store's database (store/keys.ts), which every process opens.
import type { Payload } from '@temporalio/common';
import { parseVerificationKeys } from '../common/assertion.js';
import type { KeyCanaries } from '../store/keys.js';
import type { SigningKey } from './assertion-signer.js';
import type { EncryptionCodec, PayloadKey } from './payload-codec.js';

export class KeyMismatchError extends Error {
  override name = 'KeyMismatchError';
}

/** Keys last used longer ago than this are retired: nobody writes with them any more. */
export const KEY_ACTIVE_WINDOW_MS = 7 * 24 * 3600 * 1000;
const CANARY_TEXT = 'jit-broker payload key canary';

const toText = (payload: Payload) =>
  JSON.stringify({
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  });
const fromText = (text: string): Payload => {
  const { metadata, data } = JSON.parse(text) as { metadata: Record<string, string>; data: string };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data, 'base64'),
  };
};

/** Every process that encrypts: same key id, same key; and every key in use, readable. */
export async function checkPayloadKeys(
  canaries: KeyCanaries,
  codec: EncryptionCodec,
  keys: PayloadKey[],
  now = new Date(),
): Promise<void> {
  const current = keys[0] as PayloadKey;
  const canDecode = async (material: string) => {
    try {
      const [plain] = await codec.decode([fromText(material)]);
      return Buffer.from(plain?.data ?? []).toString() === CANARY_TEXT;
    } catch {
      return false;
    }
  };
  const [encrypted] = await codec.encode([
    { metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.from(CANARY_TEXT) },
  ]);
  const stored = await canaries.claim({
    kind: 'payload',
    key_id: current.id,
    material: toText(encrypted as Payload),
    last_used_at: now.toISOString(),
  });
  if (!(await canDecode(stored.material))) {
    throw new KeyMismatchError(
      `payload key "${current.id}" is not the key other broker processes use under that id; ` +
        'every API and worker needs the same JIT_PAYLOAD_KEYS',
    );
  }
  await canaries.touch('payload', current.id, now.toISOString());
  for (const canary of await canaries.list('payload')) {
    if (now.getTime() - Date.parse(canary.last_used_at) > KEY_ACTIVE_WINDOW_MS) continue;
    if (!(await canDecode(canary.material))) {
      throw new KeyMismatchError(
        `other broker processes write with payload key "${canary.key_id}" (last ${canary.last_used_at}), ` +
          'which this process cannot read: add it to JIT_PAYLOAD_KEYS',
      );
    }
  }
}

/** A front door records the public half of its signing key. */
export async function announceSigningKey(
  canaries: KeyCanaries,
  key: SigningKey,
  now = new Date(),
): Promise<void> {
  const material = Buffer.from(key.publicKey).toString('base64');
  const stored = await canaries.claim({
    kind: 'assertion',
    key_id: key.kid,
    material,
    last_used_at: now.toISOString(),
  });
  if (stored.material !== material) {
    throw new KeyMismatchError(
      `assertion signing key "${key.kid}" differs from the key another front door signs with under that id`,
    );
  }
  await canaries.touch('assertion', key.kid, now.toISOString());
}

/** A worker must verify every key a front door signed with recently. */
export async function checkVerificationKeys(
  canaries: KeyCanaries,
  verifyKeys: string,
  now = new Date(),
): Promise<void> {
  const keys = parseVerificationKeys(verifyKeys);
  for (const canary of await canaries.list('assertion')) {
    if (now.getTime() - Date.parse(canary.last_used_at) > KEY_ACTIVE_WINDOW_MS) continue;
    const known = keys.get(canary.key_id);
    if (!known || Buffer.from(known).toString('base64') !== canary.material) {
      throw new KeyMismatchError(
        `front doors sign with assertion key "${canary.key_id}" (last ${canary.last_used_at}), which ` +
          'JIT_ASSERTION_VERIFY_KEYS does not hold: this worker would refuse their decisions',
      );
    }
  }
}
