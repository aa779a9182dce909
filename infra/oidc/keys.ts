// The dev issuer's signing key: one RS256 key, generated on first start and kept (mode 0600) so
// tokens outlive restarts.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWKS } from 'oidc-provider';

export const SIGNING_ALG = 'RS256';
export const DEFAULT_KEYS_FILE = fileURLToPath(new URL('../../.data/oidc/jwks.json', import.meta.url));

export async function loadSigningKeys(keysFile: string): Promise<JWKS> {
  try {
    return JSON.parse(await readFile(keysFile, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read the dev OIDC signing key ${keysFile}; delete it to generate a new one`, {
        cause: err,
      });
    }
  }
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const jwks = { keys: [{ ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALG, use: 'sig' }] };
  await mkdir(dirname(keysFile), { recursive: true, mode: 0o700 });
  await writeFile(keysFile, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return jwks;
}
