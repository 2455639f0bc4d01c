import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTemporalConfig } from '../../lib/config';
import { temporalConnectionOptions } from '../../lib/temporal';
import { npmRunTemporal } from '../helpers/cli';
import { testEnv } from '../helpers/env';
import { createTestPki, startTlsProxy, type TestPki, type TlsProxy } from '../helpers/tls';

/**
 * Connecting to a cluster behind TLS the standard way (@temporalio/envconfig's names and profile file), for real: the
 * run's dev server behind a TLS front that requires a client certificate (mTLS) from a private CA. The API's client
 * connection and the worker's native one are built by lib/temporal.ts from the configuration alone; the operator CLI
 * (`npm run temporal`) gets the same settings, the deprecated names included.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
let pki: TestPki;
let proxy: TlsProxy;
let address: string;

beforeAll(async () => {
  pki = createTestPki(dir);
  const [host = '127.0.0.1', port = '0'] = testEnv().temporalAddress.split(':');
  proxy = await startTlsProxy(pki, { host, port: Number(port) });
  address = `127.0.0.1:${proxy.port}`;
});

afterAll(async () => {
  await proxy?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The standard variables for this cluster: client certificate, key, server CA and the name in its certificate. */
const standard = () => ({
  TEMPORAL_ADDRESS: address,
  TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCertPath,
  TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKeyPath,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caPath,
  TEMPORAL_TLS_SERVER_NAME: pki.serverName,
});

async function systemInfoThrough(env: Record<string, string>): Promise<void> {
  const options = temporalConnectionOptions(loadTemporalConfig(env));
  const native = await NativeConnection.connect(options);
  try {
    await native.workflowService.getSystemInfo({});
  } finally {
    await native.close();
  }
  const client = await Connection.connect({ ...options, connectTimeout: 5_000 });
  try {
    await client.workflowService.getSystemInfo({});
  } finally {
    await client.close();
  }
}

describe('a cluster behind mTLS with a private CA', () => {
  it('is reached by the worker and the API with the standard TEMPORAL_TLS_* variables', async () => {
    const before = proxy.authorized;
    await systemInfoThrough(standard());
    expect(proxy.authorized).toBeGreaterThan(before);
  });

  it('is reached with a profile file and TEMPORAL_PROFILE, as a user’s existing Temporal profile', async () => {
    const profile = path.join(dir, 'temporal.toml');
    writeFileSync(
      profile,
      `[profile.hotels]
address = "${address}"
namespace = "default"

[profile.hotels.tls]
client_cert_path = "${pki.clientCertPath}"
client_key_path = "${pki.clientKeyPath}"
server_ca_cert_path = "${pki.caPath}"
server_name = "${pki.serverName}"
`,
    );
    await systemInfoThrough({ TEMPORAL_CONFIG_FILE: profile, TEMPORAL_PROFILE: 'hotels' });
  });

  it('refuses a connection without the client certificate, and one that trusts another CA', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noClientCert } = standard();
    const refusedBefore = proxy.refused;
    await expect(
      Connection.connect({
        ...temporalConnectionOptions(loadTemporalConfig(noClientCert)),
        connectTimeout: 3_000,
      }).then((c) => c.workflowService.getSystemInfo({})),
    ).rejects.toThrow();
    expect(proxy.refused).toBeGreaterThan(refusedBefore);
    await expect(
      Connection.connect({
        ...temporalConnectionOptions(
          loadTemporalConfig({ ...standard(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.otherCaPath }),
        ),
        connectTimeout: 3_000,
      }).then((c) => c.workflowService.getSystemInfo({})),
    ).rejects.toThrow();
  });

  it('is reached by `npm run temporal` with the deprecated names, translated, and a warning for each', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, ...rest } = standard();
    const result = await npmRunTemporal(
      ['operator', 'cluster', 'health'],
      {
        ...rest,
        TEMPORAL_TLS_CERT_PATH: TEMPORAL_TLS_CLIENT_CERT_PATH,
        TEMPORAL_TLS_KEY_PATH: TEMPORAL_TLS_CLIENT_KEY_PATH,
      },
      { home: dir },
    );
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/SERVING/);
    expect(result.stderr).toContain('warning: TEMPORAL_TLS_CERT_PATH is deprecated');
    expect(result.stderr).toContain('warning: TEMPORAL_TLS_KEY_PATH is deprecated');
  });
});
