// Console sessions: what a session holds, and where it is kept. The browser gets an opaque, signed
// session id (HttpOnly cookie); the tokens stay on the server, in the audit store's database
// (table console_sessions), encrypted with the console's session key, so any API replica serves
// any session and a copy of the table signs no one in.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { SessionStore } from '@fastify/session';
import type { Session } from 'fastify';
import type { ConsoleSessionRows } from '../../store/index.js';
import type { ConsoleKey } from './options.js';

/** A signed-in person: who, and the tokens the console acts with. Never sent to the browser. */
export interface SignedInUser {
  sub: string;
  name?: string;
  email?: string;
  accessToken: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  refreshToken?: string;
  idToken?: string;
  /** Epoch ms: the session ends then, whatever the tokens say. */
  sessionEndsAt: number;
}

/** A sign-in on its way through the issuer: what the callback must match. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

/** A one-time message shown on the next page (after a form's redirect). */
export interface Flash {
  kind: 'success' | 'error';
  text: string;
}

declare module 'fastify' {
  interface Session {
    user?: SignedInUser;
    signIn?: PendingSignIn;
    flash?: Flash;
    /** @fastify/csrf-protection's secret. */
    _csrf?: string;
  }
}

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

/** Independent keys for the cookie signature and the data encryption, from one configured key. */
function derive(key: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `jit-console ${purpose}`, 32));
}

/** Secrets for @fastify/session's cookie signer: the first signs, every one verifies (rotation). */
export function cookieSecrets(keys: ConsoleKey[]): string[] {
  return keys.map(({ key }) => derive(key, 'cookie signature').toString('base64'));
}

/** Seals session data for one session id: AES-256-GCM, the key id in front, the session id as AAD. */
export class SessionSealer {
  private readonly byId: Map<string, Buffer>;
  private readonly current: { id: string; key: Buffer };

  constructor(keys: ConsoleKey[]) {
    const first = keys[0];
    if (!first) throw new Error('the console needs at least one session key');
    this.byId = new Map(keys.map(({ id, key }) => [id, derive(key, 'session data')]));
    this.current = { id: first.id, key: this.byId.get(first.id) as Buffer };
  }

  seal(sessionId: string, plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.current.key, iv);
    cipher.setAAD(Buffer.from(sessionId));
    const data = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${this.current.id}.${data.toString('base64url')}`;
  }

  /** undefined when the text was sealed with a retired key, for another session, or altered. */
  open(sessionId: string, sealed: string): string | undefined {
    const [format, keyId, b64] = sealed.split('.');
    const key = keyId === undefined ? undefined : this.byId.get(keyId);
    if (format !== FORMAT || !key || !b64) return undefined;
    const data = Buffer.from(b64, 'base64url');
    if (data.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(sessionId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

// A session without an expiry (none should be saved so) lasts this long at most.
const FALLBACK_LIFETIME_MS = 10 * 60_000;

/** @fastify/session's store over the console_sessions table. */
export function databaseSessionStore(rows: ConsoleSessionRows, sealer: SessionSealer): SessionStore {
  return {
    set(sessionId, session, callback) {
      const expires = session.cookie.expires ? new Date(session.cookie.expires) : undefined;
      const expiresAt = expires ?? new Date(Date.now() + FALLBACK_LIFETIME_MS);
      rows.set(sessionId, sealer.seal(sessionId, JSON.stringify(session)), expiresAt).then(
        () => callback(),
        (err: unknown) => callback(err),
      );
    },
    get(sessionId, callback) {
      rows.get(sessionId).then(
        (sealed) => {
          const plain = sealed === undefined ? undefined : sealer.open(sessionId, sealed);
          callback(null, plain === undefined ? null : (JSON.parse(plain) as Session));
        },
        (err: unknown) => callback(err),
      );
    },
    destroy(sessionId, callback) {
      rows.destroy(sessionId).then(
        () => callback(),
        (err: unknown) => callback(err),
      );
    },
  };
}
