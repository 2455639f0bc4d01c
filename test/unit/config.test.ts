import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { developmentPayloadKeys, PayloadKeyRing } from '../../lib/codec';
import { ConfigError, developmentGuestRefKey, loadConfig } from '../../lib/config';

/** Certificate files that exist (their content does not matter to the parse; test/unit/temporal-config.test.ts). */
const certDir = mkdtempSync(path.join(os.tmpdir(), 'config-test-'));
const certFile = path.join(certDir, 'client.pem');
const keyFile = path.join(certDir, 'client.key');
writeFileSync(certFile, 'certificate');
writeFileSync(keyFile, 'key');
afterAll(() => rmSync(certDir, { recursive: true, force: true }));

/** The three secrets every process needs; long enough to pass validation and unique enough to search for. */
const secrets = {
  WHATSAPP_APP_SECRET: 'app-secret-7f3a9c1e5b',
  WHATSAPP_VERIFY_TOKEN: 'verify-token-2d8e4a6c',
  WHATSAPP_ACCESS_TOKEN: 'EAAG-access-token-9b1f3d5e7a',
};

/** Runs loadConfig expecting it to fail, and returns the ConfigError. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted an invalid environment');
}

/** The variable names a ConfigError message lists, one per `  NAME: reason` line. */
function badVariables(err: ConfigError): string[] {
  return err.message
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(':')[0] ?? '')
    .sort();
}

describe('loadConfig', () => {
  it('applies the documented defaults when only the secrets are set', () => {
    const config = loadConfig({ ...secrets });
    expect(config).toEqual({
      env: 'development',
      logLevel: 'info',
      api: { host: '0.0.0.0', port: 3000, trustedProxyHops: 0 },
      temporal: {
        address: 'localhost:7233',
        namespace: 'default',
        taskQueue: 'conversations',
        tls: false,
        apiKey: undefined,
        profile: { address: 'localhost:7233', namespace: 'default' },
        source: { configFile: undefined, profile: 'default' },
        codec: undefined,
        workflowBundlePath: undefined,
        deprecations: [],
      },
      whatsapp: {
        appSecret: secrets.WHATSAPP_APP_SECRET,
        verifyToken: secrets.WHATSAPP_VERIFY_TOKEN,
        accessToken: secrets.WHATSAPP_ACCESS_TOKEN,
        graphBaseUrl: 'https://graph.facebook.com',
        graphApiVersion: 'v23.0',
        httpTimeoutMs: 10_000,
        sendTimeoutSeconds: 86_400,
      },
      http: { maxConnectionsPerOrigin: 32 },
      webhook: { maxBodyBytes: 3 * 1024 * 1024, temporalTimeoutMs: 5_000 },
      conversation: {
        idleTimeoutSeconds: 86_400,
        seenIdsMax: 1_000,
        dedupWindowSeconds: 7 * 24 * 60 * 60,
        reconcileWaitSeconds: 30,
      },
      tenants: { cacheRefreshSeconds: 60, cacheMaxStalenessSeconds: 900 },
      tracing: { otlpEndpoint: undefined, serviceName: undefined },
      pms: {
        httpTimeoutMs: 5_000,
        breakerConsecutiveFailures: 5,
        breakerFailureRatio: 0.5,
        breakerMinRequests: 10,
        breakerHalfOpenAfterMs: 1_000,
        breakerHalfOpenMaxMs: 30_000,
        requestAttempts: 3,
        availabilityCacheTtlSeconds: 60,
        allowPrivateNetworks: false,
        maxResponseBytes: 1024 * 1024,
        shopCacheSeconds: 300,
      },
      workerTuning: {
        maxCachedWorkflows: 1_000,
        maxConcurrentWorkflowTasks: 40,
        maxConcurrentActivities: 100,
        maxConcurrentLocalActivities: 100,
        workflowTaskPollers: 10,
        activityTaskPollers: 10,
        stickyQueueTimeoutMs: 10_000,
      },
      holds: { ttlSeconds: 900, maxExtensions: 2 },
      booking: { maxStayNights: 30, pmsTimeoutSeconds: 600 },
      media: {
        dir: '.data/media',
        indexTtlSeconds: 2_592_000,
        downloadTimeoutMs: 60_000,
        allowedHosts: ['lookaside.fbsbx.com'],
        tenantQuotaBytes: 5 * 1024 ** 3,
        minFreeBytes: 1024 ** 3,
        transcription: undefined,
      },
      workerMetricsPort: 9464,
      workerMetricsHost: '127.0.0.1',
      observability: {
        workerSdkMetricsPort: 0,
        workerReadyTimeoutMs: 2_000,
        workerShutdownGraceSeconds: 20,
        conversationCountIntervalSeconds: 60,
        apiMetricsPort: 9465,
        apiMetricsHost: '127.0.0.1',
        apiShutdownGraceSeconds: 10,
      },
      admin: {
        authFailureLimit: 10,
        authFailureWindowSeconds: 300,
        maxConcurrentVerifications: 2,
        maxQueuedVerifications: 32,
        temporalTimeoutMs: 10_000,
      },
      configFailureRetrySeconds: 3_600,
      guestRefKey: developmentGuestRefKey,
      payloadKeys: PayloadKeyRing.parse(developmentPayloadKeys),
      codec: {
        corsOrigins: ['http://localhost:8233', 'http://127.0.0.1:8233'],
        sessionTtlSeconds: 28_800,
        cookieSecure: false,
        maxBodyBytes: 4 * 1024 * 1024,
      },
      guestMessaging: { serviceWindowSeconds: 86_400, pairBurst: 20, pairIntervalMs: 6_000 },
      nlu: undefined,
      databaseUrl: 'postgres://hotel@localhost:5433/hotel',
      redisUrl: 'redis://localhost:6380',
    });
  });

  it('parses numbers from strings and keeps explicit values', () => {
    const config = loadConfig({
      ...secrets,
      NODE_ENV: 'production',
      GUEST_REF_KEY: 'guest-ref-key-0123456789abcdef0123456789',
      PAYLOAD_KEYS: 'k1:eePvX0inWwKQGekqagTpCE0/ZIqPGlaOfKhm3XvWnjk=',
      LOG_LEVEL: 'warn',
      API_HOST: '127.0.0.1',
      API_PORT: '8080',
      TRUSTED_PROXY_HOPS: '2',
      ADMIN_AUTH_MAX_CONCURRENT: '3',
      ADMIN_AUTH_MAX_WAITING: '0',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'hotel',
      TEMPORAL_TASK_QUEUE: 'guests',
      WHATSAPP_GRAPH_API_VERSION: 'v21.0',
      WHATSAPP_HTTP_TIMEOUT_MS: '2500',
      WEBHOOK_MAX_BODY_BYTES: '1024',
      CONVERSATION_SEEN_IDS_MAX: '50',
      DATABASE_URL: 'postgresql://db/hotel',
      REDIS_URL: 'rediss://cache:6379',
      WORKER_METRICS_HOST: '0.0.0.0',
    });
    expect(config.env).toBe('production');
    expect(config.logLevel).toBe('warn');
    expect(config.api).toEqual({ host: '127.0.0.1', port: 8080, trustedProxyHops: 2 });
    expect(config.admin).toMatchObject({ maxConcurrentVerifications: 3, maxQueuedVerifications: 0 });
    expect(config.temporal).toMatchObject({ address: 'temporal:7233', namespace: 'hotel', taskQueue: 'guests' });
    expect(config.whatsapp.graphApiVersion).toBe('v21.0');
    expect(config.whatsapp.httpTimeoutMs).toBe(2500);
    expect(config.webhook.maxBodyBytes).toBe(1024);
    expect(config.conversation.seenIdsMax).toBe(50);
    expect(config.databaseUrl).toBe('postgresql://db/hotel');
    expect(config.redisUrl).toBe('rediss://cache:6379');
    expect(config.workerMetricsHost).toBe('0.0.0.0');
  });

  it('names every bad variable in one ConfigError', () => {
    const err = configError({ WHATSAPP_VERIFY_TOKEN: secrets.WHATSAPP_VERIFY_TOKEN, API_PORT: 'abc' });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toMatch(/^Invalid configuration:\n/);
    expect(badVariables(err)).toEqual(['API_PORT', 'WHATSAPP_ACCESS_TOKEN', 'WHATSAPP_APP_SECRET']);
    expect(err.message).toContain('WHATSAPP_APP_SECRET: is required');
    expect(err.message).toContain('WHATSAPP_ACCESS_TOKEN: is required');
  });

  it("refuses a breaker's longest half-open wait shorter than its first, and more than 10 tries of a request", () => {
    const err = configError({
      ...secrets,
      PMS_BREAKER_HALF_OPEN_AFTER_MS: '5000',
      PMS_BREAKER_HALF_OPEN_MAX_MS: '2000',
    });
    expect(err.message).toContain('PMS_BREAKER_HALF_OPEN_MAX_MS: must be at least PMS_BREAKER_HALF_OPEN_AFTER_MS');
    expect(badVariables(configError({ ...secrets, PMS_REQUEST_ATTEMPTS: '11' }))).toEqual(['PMS_REQUEST_ATTEMPTS']);
  });

  it('refuses more workflow task pollers than workflow task slots', () => {
    const err = configError({
      ...secrets,
      WORKER_MAX_WORKFLOW_TASKS: '8',
      WORKER_WORKFLOW_TASK_POLLERS: '10',
    });
    expect(err.message).toContain('WORKER_WORKFLOW_TASK_POLLERS: must be at most WORKER_MAX_WORKFLOW_TASKS');
  });

  it('says a present but malformed variable is invalid, not missing', () => {
    const err = configError({ ...secrets, API_PORT: 'abc', WHATSAPP_HTTP_TIMEOUT_MS: 'soon' });
    expect(badVariables(err)).toEqual(['API_PORT', 'WHATSAPP_HTTP_TIMEOUT_MS']);
    expect(err.message).not.toContain('API_PORT: is required');
    expect(err.message).not.toContain('WHATSAPP_HTTP_TIMEOUT_MS: is required');
  });

  it.each([
    ['API_PORT', '0'],
    ['API_PORT', '65536'],
    ['API_PORT', '80.5'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'verbose'],
    ['WHATSAPP_GRAPH_API_VERSION', '23.0'],
    ['WHATSAPP_GRAPH_BASE_URL', 'ftp://graph.facebook.com'],
    ['WHATSAPP_GRAPH_BASE_URL', 'not a url'],
    ['WEBHOOK_MAX_BODY_BYTES', '-1'],
    ['DATABASE_URL', 'mysql://db/hotel'],
    ['REDIS_URL', 'http://cache:6379'],
    ['TRANSCRIPTION_URL', 'https://user:key@whisper.example.com'],
    ['TRANSCRIPTION_URL', 'https://whisper.example.com/?key=1'],
    ['PMS_ALLOW_PRIVATE_NETWORKS', 'maybe'],
    ['PMS_MAX_RESPONSE_BYTES', '0'],
    ['MEDIA_ALLOWED_HOSTS', 'https://lookaside.fbsbx.com/'],
    ['MEDIA_TENANT_QUOTA_BYTES', '-1'],
  ])('rejects %s=%s', (name, value) => {
    expect(badVariables(configError({ ...secrets, [name]: value }))).toEqual([name]);
  });

  it('reads the OTLP endpoint and service name, and refuses an endpoint that is not an http(s) URL', () => {
    const config = loadConfig({
      ...secrets,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'hotel-api-eu',
    });
    expect(config.tracing).toEqual({ otlpEndpoint: 'http://collector:4318', serviceName: 'hotel-api-eu' });
    expect(badVariables(configError({ ...secrets, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }))).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    ]);
  });

  it('rejects secrets that are too short', () => {
    const err = configError({ ...secrets, WHATSAPP_APP_SECRET: 'short', WHATSAPP_VERIFY_TOKEN: 'tiny' });
    expect(badVariables(err)).toEqual(['WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN']);
  });

  describe('TEMPORAL_TLS', () => {
    it('is false by default', () => {
      expect(loadConfig({ ...secrets }).temporal.tls).toBe(false);
    });

    it.each([
      ['false', false],
      ['0', false],
      ['no', false],
      ['true', true],
      ['1', true],
      ['yes', true],
    ])('parses %s as %s (never Boolean("false") === true)', (value, expected) => {
      expect(loadConfig({ ...secrets, TEMPORAL_TLS: value }).temporal.tls).toBe(expected);
    });

    it.each(['maybe', 'TRUE', 'on', ' true'])('rejects %j', (value) => {
      const err = configError({ ...secrets, TEMPORAL_TLS: value });
      expect(badVariables(err)).toEqual(['TEMPORAL_TLS']);
    });

    it('is implied by a client certificate or an API key, and TEMPORAL_TLS=false still turns it off', () => {
      const withCert = loadConfig({
        ...secrets,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certFile,
        TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile,
      });
      expect(withCert.temporal).toMatchObject({
        tls: true,
        profile: { tls: { clientCert: { path: certFile }, clientKey: { path: keyFile } } },
      });
      expect(loadConfig({ ...secrets, TEMPORAL_API_KEY: 'temporal-key' }).temporal).toMatchObject({
        tls: true,
        apiKey: 'temporal-key',
      });
      // envconfig's rule, as in the temporal CLI and every SDK: an explicit "false" wins.
      expect(loadConfig({ ...secrets, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'temporal-key' }).temporal.tls).toBe(
        false,
      );
    });
  });

  describe('empty strings', () => {
    it('are treated as unset, so defaults apply', () => {
      const config = loadConfig({
        ...secrets,
        API_PORT: '',
        TEMPORAL_TLS: '',
        TEMPORAL_TLS_CERT_PATH: '',
        TEMPORAL_API_KEY: '',
        LOG_LEVEL: '',
        WHATSAPP_GRAPH_BASE_URL: '',
      });
      expect(config.api.port).toBe(3000);
      expect(config.temporal.tls).toBe(false);
      expect(config.temporal.profile.tls).toBeUndefined();
      expect(config.temporal.apiKey).toBeUndefined();
      expect(config.logLevel).toBe('info');
      expect(config.whatsapp.graphBaseUrl).toBe('https://graph.facebook.com');
    });

    it('do not satisfy a required variable', () => {
      const err = configError({ ...secrets, WHATSAPP_APP_SECRET: '' });
      expect(badVariables(err)).toEqual(['WHATSAPP_APP_SECRET']);
      expect(err.message).toContain('WHATSAPP_APP_SECRET: is required');
    });

    it('and undefined values are ignored the same way', () => {
      expect(loadConfig({ ...secrets, API_PORT: undefined }).api.port).toBe(3000);
    });
  });

  describe('a client certificate', () => {
    it('is rejected without its key, under the standard name or the old one', () => {
      for (const name of ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CERT_PATH']) {
        const err = configError({ ...secrets, [name]: certFile });
        expect(badVariables(err)).toEqual(['TEMPORAL_TLS_CLIENT_KEY_PATH']);
      }
    });

    it('is rejected when the key path is an empty string', () => {
      const err = configError({
        ...secrets,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certFile,
        TEMPORAL_TLS_CLIENT_KEY_PATH: '',
      });
      expect(badVariables(err)).toEqual(['TEMPORAL_TLS_CLIENT_KEY_PATH']);
    });

    it('without a key is reported together with the other bad variables', () => {
      const err = configError({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile, API_PORT: 'abc' });
      expect(badVariables(err)).toEqual([
        'API_PORT',
        'TEMPORAL_TLS_CLIENT_KEY_PATH',
        'WHATSAPP_ACCESS_TOKEN',
        'WHATSAPP_APP_SECRET',
        'WHATSAPP_VERIFY_TOKEN',
      ]);
    });
  });

  describe('WHATSAPP_GRAPH_BASE_URL', () => {
    it.each([
      ['https://graph.facebook.com/', 'https://graph.facebook.com'],
      ['https://graph.facebook.com///', 'https://graph.facebook.com'],
      ['http://localhost:9000/', 'http://localhost:9000'],
      ['http://localhost:9000/mock/', 'http://localhost:9000/mock'],
      ['https://graph.facebook.com', 'https://graph.facebook.com'],
    ])('%s becomes %s', (value, expected) => {
      expect(loadConfig({ ...secrets, WHATSAPP_GRAPH_BASE_URL: value }).whatsapp.graphBaseUrl).toBe(expected);
    });
  });

  describe('the error message', () => {
    it('never contains the secret values passed in', () => {
      const env = {
        WHATSAPP_APP_SECRET: 'hunter2', // too short: invalid, and a secret
        WHATSAPP_VERIFY_TOKEN: 'verify-token-2d8e4a6c', // valid, and a secret
        WHATSAPP_ACCESS_TOKEN: 'EAAG', // too short
        TEMPORAL_API_KEY: 'temporal-api-key-5c7e9a',
        TEMPORAL_TLS: 'maybe',
        API_PORT: 'abc',
        DATABASE_URL: 'mysql://hotel:db-password-3b5d@db/hotel',
        REDIS_URL: 'http://:redis-password-8f0a@cache:6379',
      };
      const err = configError(env);
      expect(badVariables(err)).toEqual([
        'API_PORT',
        'DATABASE_URL',
        'REDIS_URL',
        'TEMPORAL_TLS',
        'WHATSAPP_ACCESS_TOKEN',
        'WHATSAPP_APP_SECRET',
      ]);
      for (const secret of [
        'hunter2',
        'verify-token-2d8e4a6c',
        'EAAG',
        'temporal-api-key-5c7e9a',
        'db-password-3b5d',
        'redis-password-8f0a',
      ]) {
        expect(err.message).not.toContain(secret);
        expect(String(err.stack)).not.toContain(secret);
      }
    });

    it('does not echo a long secret that fails validation elsewhere', () => {
      const err = configError({ ...secrets, TEMPORAL_TLS_CLIENT_CERT_PATH: '/certs/client.pem' });
      for (const secret of Object.values(secrets)) expect(err.message).not.toContain(secret);
    });
  });
});
