// `npm run --silent keys -- <payload|assertion|console> [key-id]`: prints a new key in the format its
// variable takes, for a secret store. Nothing is written to disk. README, "Keys".
import { generateSigningKey } from '../platform/assertion-signer.js';
import { generatePayloadKey } from '../platform/payload-codec.js';

const [kind, kid = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`] = process.argv.slice(2);
if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid)) {
  process.stderr.write('a key id is 1-64 letters, digits, dot, dash or underscore\n');
  process.exit(64);
}
switch (kind) {
  case 'payload':
  case 'console':
    // Same format: 32 random bytes for AES-256-GCM (payloads) or the console's session keys.
    process.stdout.write(`${generatePayloadKey(kid)}\n`);
    break;
  case 'assertion': {
    const { signingKey, verificationKey } = generateSigningKey(kid);
    process.stdout.write(
      `JIT_ASSERTION_SIGNING_KEY=${signingKey}\nJIT_ASSERTION_VERIFY_KEYS=${verificationKey}\n`,
    );
    break;
  }
  default:
    process.stderr.write('usage: npm run --silent keys -- <payload|assertion|console> [key-id]\n');
    process.exit(64);
}
