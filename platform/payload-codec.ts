import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import proto from '@temporalio/proto';
import { REFUSED_PAYLOAD } from '../common/refused-payload.js';

// A CommonJS module: its namespaces are not named exports under ESM.
const { temporal } = proto;

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const refused = (reason: string): Payload => ({
  metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify({ [REFUSED_PAYLOAD]: reason })),
});

export interface PayloadKey {
  id: string;
  key: Buffer;
}

/**
 * Encrypts every payload (workflow inputs, results, update arguments, queries) with AES-256-GCM
 * so secrets never reach Temporal history in plaintext. New payloads use the first key; any key in
 * the ring decrypts, named by the key id in the payload metadata, so keys rotate without replay breaks.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: PayloadKey[]) {
    if (keys.length === 0) throw new ValueError('the payload codec needs at least one key');
    for (const { id, key } of keys) {
      if (key.length !== 32) throw new ValueError(`payload key ${id} must be 32 bytes`);
    }
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.keys[0] as PayloadKey;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
          [KEY_ID]: Buffer.from(current.id),
        },
        data,
      };
    });
  }

  /**
   * Refuses any payload this ring did not encrypt: a plaintext command (say, from `temporal
   * workflow update` without the key), or ciphertext that fails authentication, reaches workflows
   * and activities only as a refusal marker (common/refused-payload.ts). A payload under a key id
   * this ring lacks throws: that is a configuration to fix (add the key), and retrying helps.
   */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = Buffer.from(payload.metadata?.[METADATA_ENCODING_KEY] ?? []).toString();
      if (encoding !== ENCODING) return refused('payload_not_encrypted');
      const keyId = Buffer.from(payload.metadata?.[KEY_ID] ?? []).toString();
      const key = this.byId.get(keyId);
      if (!key) throw new ValueError(`no payload key with id ${JSON.stringify(keyId)}`);
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) return refused('payload_not_authentic');
      const iv = data.subarray(0, IV_BYTES);
      const tag = data.subarray(data.length - TAG_BYTES);
      try {
        const decipher = createDecipheriv(CIPHER, key, iv);
        decipher.setAuthTag(tag);
        const plain = Buffer.concat([
          decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return temporal.api.common.v1.Payload.decode(plain);
      } catch {
        return refused('payload_not_authentic');
      }
    });
  }
}

/**
 * Parses `JIT_PAYLOAD_KEYS`: comma-separated `id:base64key` entries, newest first
 * (e.g. `k2:...,k1:...` while rotating from k1 to k2).
 */
export function parsePayloadKeys(value: string): PayloadKey[] {
  return value.split(',').map((entry) => {
    const [id, b64] = entry.trim().split(':');
    if (!id || !b64 || !/^[\w.-]{1,64}$/.test(id)) throw new ValueError('each key must look like id:base64');
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) throw new ValueError(`key ${id} must decode to 32 bytes`);
    return { id, key };
  });
}

export function generatePayloadKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
