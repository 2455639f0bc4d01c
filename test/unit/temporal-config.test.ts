import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, loadTemporalConfig } from '../../lib/config';
import { temporalConnectionOptions } from '../../lib/temporal';

/**
 * The Temporal connection is configured the way Temporal's own tools configure it (@temporalio/envconfig): the
 * standard TEMPORAL_* names, a TOML profile file, TEMPORAL_PROFILE; and the old TEMPORAL_TLS_CERT_PATH/KEY_PATH still
 * work for one release, with a deprecation warning.
 */

const secrets = {
  WHATSAPP_APP_SECRET: 'app-secret-7f3a9c1e5b',
  WHATSAPP_VERIFY_TOKEN: 'verify-token-2d8e4a6c',
  WHATSAPP_ACCESS_TOKEN: 'EAAG-access-token-9b1f3d5e7a',
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-config-'));
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
};
const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n');
const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');

/** A profile file as `temporal config set` writes it, with two profiles. */
const profileFile = file(
  'temporal.toml',
  `[profile.default]
address = "temporal.internal:7233"
namespace = "hotels"

[profile.cloud]
address = "hotels.a1b2c.tmprl.cloud:7233"
namespace = "hotels.a1b2c"

[profile.cloud.tls]
client_cert_path = "${cert}"
client_key_path = "${key}"
server_ca_cert_path = "${ca}"
server_name = "hotels.a1b2c.tmprl.cloud"

[profile.cloud.grpc_meta]
x-hotel-env = "prod"
`,
);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...secrets, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n').slice(1);
  }
  throw new Error('loadConfig accepted an invalid environment');
}

describe('the standard variables', () => {
  it('read a client certificate pair, a server CA and a server name', () => {
    const config = loadConfig({
      ...secrets,
      TEMPORAL_ADDRESS: 'temporal.example.com:7233',
      TEMPORAL_NAMESPACE: 'hotels',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    }).temporal;
    expect(config).toMatchObject({
      address: 'temporal.example.com:7233',
      namespace: 'hotels',
      tls: true,
      deprecations: [],
    });
    const options = temporalConnectionOptions(config);
    expect(options.address).toBe('temporal.example.com:7233');
    expect(options.tls).toEqual({
      serverNameOverride: 'temporal.internal',
      serverRootCACertificate: Uint8Array.from(
        Buffer.from('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n'),
      ),
      clientCertPair: {
        crt: Uint8Array.from(Buffer.from('-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n')),
        key: Uint8Array.from(Buffer.from('-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n')),
      },
    });
    expect(options.apiKey).toBeUndefined();
  });

  it('connect with TLS and the key for an API key (Temporal Cloud), and in plain text by default', () => {
    expect(temporalConnectionOptions(loadConfig({ ...secrets, TEMPORAL_API_KEY: 'cloud-key-1' }).temporal)).toEqual({
      address: 'localhost:7233',
      tls: true,
      apiKey: 'cloud-key-1',
    });
    expect(temporalConnectionOptions(loadConfig({ ...secrets }).temporal)).toEqual({ address: 'localhost:7233' });
  });

  it('trust a server CA without a client certificate (TLS to a private CA, no mTLS)', () => {
    const config = loadConfig({ ...secrets, TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca }).temporal;
    expect(config.tls).toBe(true);
    const tls = temporalConnectionOptions(config).tls;
    expect(tls).toMatchObject({ serverRootCACertificate: expect.any(Uint8Array) });
    expect(tls).not.toHaveProperty('clientCertPair.crt');
  });

  it('name a file that cannot be read, and a key without its certificate', () => {
    expect(
      problems({
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing-ca.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      }),
    ).toEqual([
      `  TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read ${path.join(dir, 'missing-ca.pem')} (set by the variable or the profile file)`,
      '  TEMPORAL_TLS_CLIENT_CERT_PATH: is required when the client key is set (mTLS needs both)',
    ]);
  });

  it('take TEMPORAL_CODEC_ENDPOINT and TEMPORAL_CODEC_AUTH for the CLI, and refuse an endpoint that is not a URL', () => {
    expect(
      loadConfig({
        ...secrets,
        TEMPORAL_CODEC_ENDPOINT: 'https://api.example.com/codec',
        TEMPORAL_CODEC_AUTH: 'Bearer x',
      }).temporal.codec,
    ).toEqual({ endpoint: 'https://api.example.com/codec', auth: 'Bearer x' });
    expect(problems({ TEMPORAL_CODEC_ENDPOINT: 'api/codec' })[0]).toMatch(/^ {2}TEMPORAL_CODEC_ENDPOINT: /);
  });
});

describe('the old names TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH', () => {
  it('still work, and each one in use gives a deprecation warning naming its replacement', () => {
    const config = loadConfig({ ...secrets, TEMPORAL_TLS_CERT_PATH: cert, TEMPORAL_TLS_KEY_PATH: key }).temporal;
    expect(config.tls).toBe(true);
    expect(temporalConnectionOptions(config).tls).toMatchObject({
      clientCertPair: { crt: expect.any(Uint8Array), key: expect.any(Uint8Array) },
    });
    expect(config.deprecations).toEqual([
      'TEMPORAL_TLS_CERT_PATH is deprecated and will be removed in the next release: rename it TEMPORAL_TLS_CLIENT_CERT_PATH',
      'TEMPORAL_TLS_KEY_PATH is deprecated and will be removed in the next release: rename it TEMPORAL_TLS_CLIENT_KEY_PATH',
    ]);
  });

  it('may be set beside the new name to the same value (a migration in progress), but not to another', () => {
    expect(
      loadConfig({
        ...secrets,
        TEMPORAL_TLS_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      }).temporal.profile.tls?.clientCert,
    ).toEqual({ path: cert });
    expect(
      problems({ TEMPORAL_TLS_CERT_PATH: ca, TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key }),
    ).toEqual([
      '  TEMPORAL_TLS_CERT_PATH: is a deprecated alias of TEMPORAL_TLS_CLIENT_CERT_PATH, and both are set to different values; set only TEMPORAL_TLS_CLIENT_CERT_PATH',
    ]);
  });
});

describe('a profile file', () => {
  it('is read from TEMPORAL_CONFIG_FILE: the default profile, unless TEMPORAL_PROFILE names another', () => {
    const byDefault = loadConfig({ ...secrets, TEMPORAL_CONFIG_FILE: profileFile }).temporal;
    expect(byDefault).toMatchObject({
      address: 'temporal.internal:7233',
      namespace: 'hotels',
      tls: false,
      source: { configFile: profileFile, profile: 'default' },
    });

    const cloud = loadConfig({ ...secrets, TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: 'cloud' }).temporal;
    expect(cloud).toMatchObject({ address: 'hotels.a1b2c.tmprl.cloud:7233', namespace: 'hotels.a1b2c', tls: true });
    const options = temporalConnectionOptions(cloud);
    expect(options.tls).toMatchObject({
      serverNameOverride: 'hotels.a1b2c.tmprl.cloud',
      serverRootCACertificate: expect.any(Uint8Array),
      clientCertPair: { crt: expect.any(Uint8Array), key: expect.any(Uint8Array) },
    });
    expect(options.metadata).toEqual({ 'x-hotel-env': 'prod' });
  });

  it('is read from the user config directory when TEMPORAL_CONFIG_FILE is unset, as the temporal CLI reads it', () => {
    const home = path.join(dir, 'home');
    file('home/.config/temporalio/temporal.toml', '[profile.default]\naddress = "from-home:7233"\n');
    expect(loadConfig({ ...secrets, HOME: home }).temporal).toMatchObject({
      address: 'from-home:7233',
      namespace: 'default',
      source: { configFile: path.join(home, '.config', 'temporalio', 'temporal.toml') },
    });
  });

  it('is overridden by the variables, field by field', () => {
    const config = loadConfig({
      ...secrets,
      TEMPORAL_CONFIG_FILE: profileFile,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_NAMESPACE: 'staging',
      TEMPORAL_TLS_SERVER_NAME: 'staging.internal',
    }).temporal;
    expect(config).toMatchObject({ address: 'hotels.a1b2c.tmprl.cloud:7233', namespace: 'staging' });
    expect(config.profile.tls).toMatchObject({ serverName: 'staging.internal', clientCert: { path: cert } });
  });

  it('that is missing, a profile it lacks, or broken TOML is a configuration error naming the variable', () => {
    expect(problems({ TEMPORAL_CONFIG_FILE: path.join(dir, 'nope.toml') })).toEqual([
      `  TEMPORAL_CONFIG_FILE: ${path.join(dir, 'nope.toml')} does not exist`,
    ]);
    expect(problems({ TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: 'staging' })).toEqual([
      `  TEMPORAL_PROFILE: Profile 'staging' not found in config data (profile file ${profileFile})`,
    ]);
    const broken = file('broken.toml', '[profile.default\naddress = 1\n');
    expect(problems({ TEMPORAL_CONFIG_FILE: broken })[0]).toMatch(
      /^ {2}TEMPORAL_CONFIG_FILE: Invalid TOML document: .*broken\.toml\)$/,
    );
  });

  it('pointing at certificate files that are not there is refused before any connection is tried', () => {
    const bad = file(
      'bad-paths.toml',
      '[profile.default.tls]\nclient_cert_path = "/nope/c.pem"\nclient_key_path = "/nope/k.pem"\n',
    );
    expect(problems({ TEMPORAL_CONFIG_FILE: bad })).toEqual([
      '  TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read /nope/c.pem (set by the variable or the profile file)',
      '  TEMPORAL_TLS_CLIENT_KEY_PATH: cannot read /nope/k.pem (set by the variable or the profile file)',
    ]);
  });
});

describe('loadTemporalConfig', () => {
  it('needs only the Temporal variables (no WhatsApp secrets), for the operator tooling', () => {
    expect(loadTemporalConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'hotels' })).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'hotels',
    });
    expect(() => loadTemporalConfig({ TEMPORAL_TLS: 'maybe' })).toThrow(/TEMPORAL_TLS/);
    expect(() => loadTemporalConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toThrow(/TEMPORAL_TLS_CLIENT_KEY_PATH/);
  });
});
