// Temporal connection settings (TLS, mTLS, custom CA, server name, API key) and the ledger-writer
// role, as the API, the worker and the queue door read them. No TLS Temporal server runs here (the
// dev server speaks plaintext), so this checks what reaches the SDK's connect options; the SDK's own
// handshake is not exercised.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ledgerWriterArn } from '../integrations/ledger-writer.js';
import { ConfigError, loadConfig } from '../platform/config.js';
import { temporalConnectionOptions } from '../platform/temporal-connection.js';

const base = { JIT_PAYLOAD_KEYS: 'k1:ZGV2LW9ubHktdGVzdC1maXh0dXJlLWtleS0zMmJ5dGU=' };
const dir = mkdtempSync(join(tmpdir(), 'jit-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const pemFile = (name: string, label: string) => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`);
  return path;
};
const refusal = (env: Record<string, string>) => {
  try {
    temporalConnectionOptions(loadConfig({ ...base, ...env }));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('the settings were accepted');
};

describe('Temporal connection settings', () => {
  test('none: plaintext to the local dev server', () => {
    assert.deepEqual(temporalConnectionOptions(loadConfig(base)), { address: '127.0.0.1:7233' });
  });

  test('an API key alone means TLS with the system CAs (Temporal Cloud)', () => {
    const options = temporalConnectionOptions(
      loadConfig({ ...base, TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key' }),
    );
    assert.deepEqual(options, { address: 'ns.acct.tmprl.cloud:7233', tls: true, apiKey: 'key' });
  });

  test('mTLS with a private CA and a server name: the files are read into the connect options', () => {
    const options = temporalConnectionOptions(
      loadConfig({
        ...base,
        TEMPORAL_TLS_CERT: pemFile('client.crt', 'CERTIFICATE'),
        TEMPORAL_TLS_KEY: pemFile('client.key', 'PRIVATE KEY'),
        TEMPORAL_TLS_CA: pemFile('ca.crt', 'CERTIFICATE'),
        TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
      }),
    );
    assert.ok(options.tls && options.tls !== true);
    assert.equal(options.tls.serverNameOverride, 'frontend.temporal.internal');
    assert.match(String(options.tls.serverRootCACertificate), /BEGIN CERTIFICATE/);
    assert.match(String(options.tls.clientCertPair?.crt), /BEGIN CERTIFICATE/);
    assert.match(String(options.tls.clientCertPair?.key), /BEGIN PRIVATE KEY/);
    assert.equal(options.apiKey, undefined);
  });

  test('a certificate without its key (or the reverse) is refused at start, naming both', () => {
    for (const env of [
      { TEMPORAL_TLS_CERT: pemFile('only.crt', 'CERTIFICATE') } as Record<string, string>,
      { TEMPORAL_TLS_KEY: pemFile('only.key', 'PRIVATE KEY') },
    ]) {
      assert.match(refusal(env), /set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together/);
    }
  });

  test('a missing or non-PEM file is refused at start, naming the setting; the file content is not echoed', () => {
    assert.match(
      refusal({ TEMPORAL_TLS_CA: join(dir, 'nope.crt') }),
      /TEMPORAL_TLS_CA: cannot read .*nope\.crt/,
    );
    const secret = join(dir, 'not-pem.key');
    writeFileSync(secret, 'hunter2');
    const message = refusal({ TEMPORAL_TLS_CERT: pemFile('c.crt', 'CERTIFICATE'), TEMPORAL_TLS_KEY: secret });
    assert.match(message, /TEMPORAL_TLS_KEY: cannot read .*not a PEM file/);
    assert.doesNotMatch(message, /hunter2/);
  });
});

describe('JIT_LEDGER_WRITER_ROLE', () => {
  const role = 'arn:aws:iam::222222222222:role/jit/jit-prod-admin';
  test('a name with a path, or an ARN template, resolves in the account and partition of the role', () => {
    const name = loadConfig({ ...base, JIT_LEDGER_WRITER_ROLE: 'jit-broker/jit-ledger-writer' });
    assert.equal(
      ledgerWriterArn(name.JIT_LEDGER_WRITER_ROLE as string, role),
      'arn:aws:iam::222222222222:role/jit-broker/jit-ledger-writer',
    );
    assert.equal(
      ledgerWriterArn(
        'arn:{partition}:iam::{account}:role/ops/ledger',
        'arn:aws-us-gov:iam::333333333333:role/jit/x',
      ),
      'arn:aws-us-gov:iam::333333333333:role/ops/ledger',
    );
  });

  test('unset keeps the single-account behaviour; a malformed value is refused at start', () => {
    assert.equal(loadConfig(base).JIT_LEDGER_WRITER_ROLE, undefined);
    assert.throws(
      () => loadConfig({ ...base, JIT_LEDGER_WRITER_ROLE: 'arn:aws:iam::111111111111:role/fixed' }),
      /JIT_LEDGER_WRITER_ROLE: an ARN template must contain \{account\}/,
    );
    assert.throws(
      () => loadConfig({ ...base, JIT_LEDGER_WRITER_ROLE: 'has spaces/x y' }),
      /JIT_LEDGER_WRITER_ROLE: must be a role name/,
    );
  });
});
