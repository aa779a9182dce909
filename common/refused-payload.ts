// What the payload codec hands on in place of a payload it refuses (plaintext, or ciphertext that
// fails authentication): a marker, never the sender's content. Workflows see the marker where
// arguments should be and refuse the command (`payload_not_encrypted`); a start becomes a failed
// workflow. Throwing instead would fail the workflow task over and over: any namespace writer
// could wedge a grant by sending one plaintext update.
export const REFUSED_PAYLOAD = '__jitRefusedPayload';

export const isRefusedPayload = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && REFUSED_PAYLOAD in value;
