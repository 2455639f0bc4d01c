import { z } from 'zod';
import { developmentPayloadKeys, PayloadKeyRing } from './codec';
import { serviceUrlProblem } from './network-policy';
import type { TracingConfig } from './tracing';
import { resolveTemporalEnv, temporalEnvShape, type TemporalConfig } from './temporal-config';

/** Parses "true"/"false"/"1"/"0" strictly; `Boolean("false")` is true, so never coerce with Boolean(). */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = z.url({ protocol: /^https?$/ });

/** `http://localhost:8233`: an http(s) origin exactly as a browser sends it in `Origin`. */
function isOrigin(value: string): boolean {
  try {
    const parsed = new URL(value);
    return /^https?:$/.test(parsed.protocol) && parsed.origin === value;
  } catch {
    return false;
  }
}

/**
 * Every environment variable the system reads. Each process parses it once, at its entry point,
 * with {@link loadConfig}, and passes the result down. README.md documents each variable.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  API_HOST: z.string().min(1).default('0.0.0.0'),
  API_PORT: port.default(3000),
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),

  // TEMPORAL_* (envconfig's names, a profile file, the deprecated aliases) and WORKFLOW_BUNDLE_PATH: lib/temporal-config.ts.
  ...temporalEnvShape,

  WHATSAPP_APP_SECRET: z.string().min(8, 'must be the Meta app secret (at least 8 characters)'),
  WHATSAPP_VERIFY_TOKEN: z.string().min(8, 'must be at least 8 characters'),
  WHATSAPP_ACCESS_TOKEN: z.string().min(8, 'must be a WhatsApp Cloud API access token'),
  WHATSAPP_GRAPH_BASE_URL: url.default('https://graph.facebook.com'),
  WHATSAPP_GRAPH_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v23.0')
    .default('v23.0'),
  WHATSAPP_HTTP_TIMEOUT_MS: positiveInt.default(10_000),
  WHATSAPP_SEND_TIMEOUT_SECONDS: positiveInt.default(24 * 60 * 60),
  CONFIG_FAILURE_RETRY_SECONDS: positiveInt.default(60 * 60),
  HTTP_MAX_CONNECTIONS_PER_ORIGIN: positiveInt.default(32),

  WEBHOOK_MAX_BODY_BYTES: positiveInt.default(3 * 1024 * 1024),
  WEBHOOK_TEMPORAL_TIMEOUT_MS: positiveInt.default(5_000),

  CONVERSATION_IDLE_TIMEOUT_SECONDS: positiveInt.default(24 * 60 * 60),
  CONVERSATION_SEEN_IDS_MAX: positiveInt.default(1_000),
  CONVERSATION_DEDUP_WINDOW_SECONDS: positiveInt.default(7 * 24 * 60 * 60),
  SEND_RECONCILE_WAIT_SECONDS: positiveInt.default(30),

  TENANT_CACHE_REFRESH_SECONDS: positiveInt.default(60),
  TENANT_CACHE_MAX_STALENESS_SECONDS: positiveInt.default(15 * 60),

  GUEST_REF_KEY: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),

  // The payload codec (lib/codec.ts) and its endpoint for the Web UI (api/codec/).
  PAYLOAD_KEYS: z.string().min(1).optional(),
  PAYLOAD_KEY_CURRENT: z.string().min(1).optional(),
  CODEC_CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()))
    .refine((origins) => origins.every(isOrigin), {
      message: 'must be origins (scheme://host[:port], no path), comma-separated',
    })
    .default(['http://localhost:8233', 'http://127.0.0.1:8233']),
  CODEC_SESSION_TTL_SECONDS: positiveInt.default(8 * 60 * 60),
  CODEC_COOKIE_SECURE: bool.optional(),
  CODEC_MAX_BODY_BYTES: positiveInt.default(4 * 1024 * 1024),

  ADMIN_AUTH_FAILURE_LIMIT: positiveInt.default(10),
  ADMIN_AUTH_FAILURE_WINDOW_SECONDS: positiveInt.default(5 * 60),
  ADMIN_AUTH_MAX_CONCURRENT: positiveInt.default(2),
  ADMIN_AUTH_MAX_WAITING: z.coerce.number().int().min(0).default(32),
  ADMIN_TEMPORAL_TIMEOUT_MS: positiveInt.default(10_000),

  PMS_HTTP_TIMEOUT_MS: positiveInt.default(5_000),
  PMS_BREAKER_CONSECUTIVE_FAILURES: positiveInt.default(5),
  PMS_BREAKER_FAILURE_RATIO: z.coerce.number().gt(0).lte(1).default(0.5),
  PMS_BREAKER_MIN_REQUESTS: positiveInt.default(10),
  PMS_BREAKER_HALF_OPEN_AFTER_MS: positiveInt.default(1_000),
  PMS_BREAKER_HALF_OPEN_MAX_MS: positiveInt.default(30_000),
  PMS_REQUEST_ATTEMPTS: positiveInt.max(10).default(3),
  AVAILABILITY_CACHE_TTL_SECONDS: positiveInt.default(60),
  PMS_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  PMS_MAX_RESPONSE_BYTES: positiveInt.default(1024 * 1024),
  PMS_SHOP_CACHE_SECONDS: positiveInt.default(5 * 60),

  // The worker's Temporal settings (README, "Scaling"; docs/scaling.md says how each was chosen).
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(1_000),
  WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  WORKER_MAX_ACTIVITIES: positiveInt.default(100),
  WORKER_MAX_LOCAL_ACTIVITIES: positiveInt.default(100),
  WORKER_WORKFLOW_TASK_POLLERS: z.coerce.number().int().min(2).default(10),
  WORKER_ACTIVITY_TASK_POLLERS: positiveInt.default(10),
  WORKER_STICKY_QUEUE_TIMEOUT_MS: positiveInt.default(10_000),

  HOLD_TTL_SECONDS: positiveInt.default(15 * 60),
  HOLD_MAX_EXTENSIONS: z.coerce.number().int().min(0).default(2),
  BOOKING_MAX_STAY_NIGHTS: positiveInt.default(30),
  BOOKING_PMS_TIMEOUT_SECONDS: positiveInt.default(10 * 60),

  MEDIA_DIR: z.string().min(1).default('.data/media'),
  MEDIA_INDEX_TTL_SECONDS: positiveInt.default(30 * 24 * 60 * 60),
  MEDIA_DOWNLOAD_TIMEOUT_MS: positiveInt.default(60_000),
  MEDIA_ALLOWED_HOSTS: z
    .string()
    .regex(/^\s*(\*\.)?[a-z0-9.-]+(\s*,\s*(\*\.)?[a-z0-9.-]+)*\s*$/i, 'must be host names, comma-separated')
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()))
    .default(['lookaside.fbsbx.com']),
  MEDIA_TENANT_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(5 * 1024 ** 3),
  MEDIA_MIN_FREE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(1024 ** 3),
  TRANSCRIPTION_URL: url
    .refine((value) => serviceUrlProblem(value) === undefined, {
      message: 'must be an http(s) URL without credentials, query string or fragment',
    })
    .optional(),
  TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  TRANSCRIPTION_API_KEY: z.string().min(1).optional(),
  TRANSCRIPTION_MODEL: z.string().min(1).default('whisper-1'),

  // What guests see (issue 12): the customer-service window and the pair rate (one guest, one business number).
  WHATSAPP_SERVICE_WINDOW_SECONDS: positiveInt.default(24 * 60 * 60),
  WHATSAPP_PAIR_BURST: positiveInt.default(20),
  WHATSAPP_PAIR_INTERVAL_MS: z.coerce.number().int().min(0).default(6_000),
  // An optional language model for understanding (OpenAI-compatible chat completions); the rules by default.
  NLU_URL: url
    .refine((value) => serviceUrlProblem(value) === undefined, {
      message: 'must be an http(s) URL without credentials, query string or fragment',
    })
    .optional(),
  NLU_API_KEY: z.string().min(1).optional(),
  NLU_MODEL: z.string().min(1).default('gpt-4o-mini'),
  NLU_TIMEOUT_MS: positiveInt.default(3_000),
  NLU_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  NLU_BREAKER_FAILURES: positiveInt.default(5),
  NLU_BREAKER_HALF_OPEN_AFTER_MS: positiveInt.default(30_000),

  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  // Loopback by default: /metrics has no authentication. Compose sets 0.0.0.0 on its internal network.
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // The Temporal SDK's own exporter, proxied by the worker's /metrics; 0 picks a free loopback port at start.
  WORKER_SDK_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  WORKER_READY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(20),
  CONVERSATION_COUNT_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  // The API's /metrics on a listener of its own, loopback by default: the public port never serves it.
  API_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  API_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  API_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(10),
  // OpenTelemetry's own names: the collector's OTLP/HTTP base URL (unset: no tracing) and the service name.
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(200).optional(),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default('postgres://hotel@localhost:5433/hotel'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://localhost:6380'),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'test' | 'production';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * `trustedProxyHops`: how many reverse proxies in front of the API append to `X-Forwarded-For`; 0 trusts no
   * header and uses the socket address.
   */
  api: { host: string; port: number; trustedProxyHops: number };
  temporal: TemporalConfig;
  whatsapp: {
    appSecret: string;
    verifyToken: string;
    accessToken: string;
    graphBaseUrl: string;
    graphApiVersion: string;
    httpTimeoutMs: number;
    /** How long a reply is retried before it is recorded as undeliverable (WhatsApp's 24 h window by default). */
    sendTimeoutSeconds: number;
  };
  http: { maxConnectionsPerOrigin: number };
  webhook: { maxBodyBytes: number; temporalTimeoutMs: number };
  conversation: {
    idleTimeoutSeconds: number;
    seenIdsMax: number;
    /** A closed conversation stays dormant this long after its last message, dropping Meta's redeliveries. */
    dedupWindowSeconds: number;
    /** A send whose outcome is unknown waits this long for a status carrying its key before it is sent again. */
    reconcileWaitSeconds: number;
  };
  tenants: { cacheRefreshSeconds: number; cacheMaxStalenessSeconds: number };
  pms: {
    httpTimeoutMs: number;
    breakerConsecutiveFailures: number;
    breakerFailureRatio: number;
    breakerMinRequests: number;
    /** The first half-open delay; each trial that fails doubles it, up to `breakerHalfOpenMaxMs`. */
    breakerHalfOpenAfterMs: number;
    breakerHalfOpenMaxMs: number;
    /** Tries of one PMS request that is safe to send again (a read; a booking the PMS refused with a 503). */
    requestAttempts: number;
    availabilityCacheTtlSeconds: number;
    /** Let tenants' PMS URLs reach loopback, private and link-local addresses (development, tests, the demo). */
    allowPrivateNetworks: boolean;
    /** Longest PMS answer read; a longer one fails the call. */
    maxResponseBytes: number;
    /** How long a shop's order states and room type terms (tax group, fees) are kept before being read again. */
    shopCacheSeconds: number;
  };
  /** The conversation worker's slots, pollers and cache (`WORKER_*`; see `workers/tuning.ts`). */
  workerTuning: {
    maxCachedWorkflows: number;
    maxConcurrentWorkflowTasks: number;
    maxConcurrentActivities: number;
    maxConcurrentLocalActivities: number;
    workflowTaskPollers: number;
    activityTaskPollers: number;
    stickyQueueTimeoutMs: number;
  };
  holds: { ttlSeconds: number; maxExtensions: number };
  /** `pmsTimeoutSeconds`: how long a booking keeps retrying the PMS before it gives up and compensates. */
  booking: { maxStayNights: number; pmsTimeoutSeconds: number };
  media: {
    dir: string;
    indexTtlSeconds: number;
    downloadTimeoutMs: number;
    /** Hosts media URLs may name; the Graph token is sent to no other (`*.example.com` allows subdomains). */
    allowedHosts: string[];
    /** Bytes each tenant may store; 0: no quota. */
    tenantQuotaBytes: number;
    /** Downloads are refused while the store's disk has less free; 0: no floor. */
    minFreeBytes: number;
    /** `allowPrivateNetworks`: the service may be on a loopback, private or link-local address (self-hosted). */
    transcription:
      { url: string; apiKey: string | undefined; model: string; allowPrivateNetworks: boolean } | undefined;
  };
  /** Port of the worker's Prometheus /metrics endpoint; 0 turns it off. */
  workerMetricsPort: number;
  /** Address the worker's /metrics listens on; loopback unless the deployment says otherwise. */
  workerMetricsHost: string;
  /**
   * Metrics, health and shutdown (README "Operating it"): the SDK exporter's loopback port (0: any free one), each
   * readiness check's timeout, the worker's and the API's shutdown grace, how often conversations are counted, and
   * the API's internal metrics listener (port 0 turns it off).
   */
  observability: {
    workerSdkMetricsPort: number;
    workerReadyTimeoutMs: number;
    workerShutdownGraceSeconds: number;
    conversationCountIntervalSeconds: number;
    apiMetricsPort: number;
    apiMetricsHost: string;
    apiShutdownGraceSeconds: number;
  };
  /** Traces (README "Operating it"): exported over OTLP/HTTP only when an endpoint is set. */
  tracing: TracingConfig;
  /** The failure limiter, and the cap on concurrent scrypt token verifications (and how many may wait for one). */
  admin: {
    authFailureLimit: number;
    authFailureWindowSeconds: number;
    maxConcurrentVerifications: number;
    maxQueuedVerifications: number;
    /**
     * How long an admin request waits for Temporal (a conversation's state, an operator update, an erasure) before
     * answering 503; an operator reply not sent by then is answered as pending.
     */
    temporalTimeoutMs: number;
  };
  /**
   * How long a configuration or auth failure (secret missing, token or key refused) is retried before it becomes a
   * non-retryable `ConfigurationFailure` that is recorded and flagged to staff.
   */
  configFailureRetrySeconds: number;
  /** HMAC key of guest references (lib/guest-refs.ts); a fixed development key outside production when unset. */
  guestRefKey: string;
  /** The payload codec's keys (`PAYLOAD_KEYS`); a fixed, public development key outside production when unset. */
  payloadKeys: PayloadKeyRing;
  /**
   * The codec endpoint the Web UI decodes payloads through: the UI origins allowed by CORS, how long a login lasts,
   * whether its cookie is `Secure`, and the largest request body.
   */
  codec: { corsOrigins: string[]; sessionTtlSeconds: number; cookieSecure: boolean; maxBodyBytes: number };
  /**
   * What guests see: WhatsApp's customer-service window (after it only templates reach the guest) and the pacing of
   * sends to one guest within Meta's pair rate (a burst, then one message per interval; error 131056).
   */
  guestMessaging: { serviceWindowSeconds: number; pairBurst: number; pairIntervalMs: number };
  /** The optional language model that understands guests' messages (`NLU_*`); the rules when undefined. */
  nlu:
    | {
        url: string;
        apiKey: string | undefined;
        model: string;
        timeoutMs: number;
        allowPrivateNetworks: boolean;
        breakerFailures: number;
        breakerHalfOpenAfterMs: number;
      }
    | undefined;
  databaseUrl: string;
  redisUrl: string;
}

/**
 * The guest reference key outside production when GUEST_REF_KEY is unset (a process run by hand). It is public, so
 * references made with it are not secret; `bash scripts/start.sh` generates a real one into .data/dev.env.
 */
export const developmentGuestRefKey = 'development-only-guest-reference-key-not-secret';

/** Thrown when the environment is invalid; its message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment once. Fails fast with one message that lists every bad variable,
 * so an operator fixes them all in one go rather than one per restart.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset": docker-compose and shells often pass VAR= for optional values.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  // Zod 4 leaves `issue.input` out of reported issues, so "missing" is decided from the environment itself.
  const lines = (parsed.error?.issues ?? []).map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const message = issue.code === 'invalid_type' && cleaned[name] === undefined ? 'is required' : issue.message;
    return `  ${name}: ${message}`;
  });
  if (cleaned.NODE_ENV === 'production' && cleaned.GUEST_REF_KEY === undefined) {
    lines.push('  GUEST_REF_KEY: is required in production (the key of guest pseudonyms; e.g. openssl rand -hex 32)');
  }
  if (parsed.success && parsed.data.PMS_BREAKER_HALF_OPEN_MAX_MS < parsed.data.PMS_BREAKER_HALF_OPEN_AFTER_MS) {
    lines.push('  PMS_BREAKER_HALF_OPEN_MAX_MS: must be at least PMS_BREAKER_HALF_OPEN_AFTER_MS (the first delay)');
  }
  if (parsed.success && parsed.data.WORKER_WORKFLOW_TASK_POLLERS > parsed.data.WORKER_MAX_WORKFLOW_TASKS) {
    lines.push('  WORKER_WORKFLOW_TASK_POLLERS: must be at most WORKER_MAX_WORKFLOW_TASKS');
  }
  if (cleaned.NODE_ENV === 'production' && cleaned.PAYLOAD_KEYS === undefined) {
    lines.push(
      '  PAYLOAD_KEYS: is required in production (the keys that encrypt what Temporal stores; see README, "Payload keys")',
    );
  }
  const payloadKeys = PayloadKeyRing.parse(cleaned.PAYLOAD_KEYS ?? developmentPayloadKeys, cleaned.PAYLOAD_KEY_CURRENT);
  if (!(payloadKeys instanceof PayloadKeyRing)) {
    lines.push(...payloadKeys.problems.map((problem) => `  ${problem}`));
  }
  // The profile file, certificate files and aliases, once the TEMPORAL_* variables themselves are valid.
  const temporal = resolveTemporalEnv(cleaned);
  lines.push(...temporal.problems.map((problem) => `  ${problem}`));
  if (!parsed.success || !temporal.config || !(payloadKeys instanceof PayloadKeyRing) || lines.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    api: { host: e.API_HOST, port: e.API_PORT, trustedProxyHops: e.TRUSTED_PROXY_HOPS },
    temporal: temporal.config,
    whatsapp: {
      appSecret: e.WHATSAPP_APP_SECRET,
      verifyToken: e.WHATSAPP_VERIFY_TOKEN,
      accessToken: e.WHATSAPP_ACCESS_TOKEN,
      graphBaseUrl: e.WHATSAPP_GRAPH_BASE_URL.replace(/\/+$/, ''),
      graphApiVersion: e.WHATSAPP_GRAPH_API_VERSION,
      httpTimeoutMs: e.WHATSAPP_HTTP_TIMEOUT_MS,
      sendTimeoutSeconds: e.WHATSAPP_SEND_TIMEOUT_SECONDS,
    },
    http: { maxConnectionsPerOrigin: e.HTTP_MAX_CONNECTIONS_PER_ORIGIN },
    webhook: { maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES, temporalTimeoutMs: e.WEBHOOK_TEMPORAL_TIMEOUT_MS },
    conversation: {
      idleTimeoutSeconds: e.CONVERSATION_IDLE_TIMEOUT_SECONDS,
      seenIdsMax: e.CONVERSATION_SEEN_IDS_MAX,
      dedupWindowSeconds: e.CONVERSATION_DEDUP_WINDOW_SECONDS,
      reconcileWaitSeconds: e.SEND_RECONCILE_WAIT_SECONDS,
    },
    tenants: {
      cacheRefreshSeconds: e.TENANT_CACHE_REFRESH_SECONDS,
      cacheMaxStalenessSeconds: e.TENANT_CACHE_MAX_STALENESS_SECONDS,
    },
    pms: {
      httpTimeoutMs: e.PMS_HTTP_TIMEOUT_MS,
      breakerConsecutiveFailures: e.PMS_BREAKER_CONSECUTIVE_FAILURES,
      breakerFailureRatio: e.PMS_BREAKER_FAILURE_RATIO,
      breakerMinRequests: e.PMS_BREAKER_MIN_REQUESTS,
      breakerHalfOpenAfterMs: e.PMS_BREAKER_HALF_OPEN_AFTER_MS,
      breakerHalfOpenMaxMs: e.PMS_BREAKER_HALF_OPEN_MAX_MS,
      requestAttempts: e.PMS_REQUEST_ATTEMPTS,
      availabilityCacheTtlSeconds: e.AVAILABILITY_CACHE_TTL_SECONDS,
      allowPrivateNetworks: e.PMS_ALLOW_PRIVATE_NETWORKS,
      maxResponseBytes: e.PMS_MAX_RESPONSE_BYTES,
      shopCacheSeconds: e.PMS_SHOP_CACHE_SECONDS,
    },
    workerTuning: {
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_WORKFLOW_TASKS,
      maxConcurrentActivities: e.WORKER_MAX_ACTIVITIES,
      maxConcurrentLocalActivities: e.WORKER_MAX_LOCAL_ACTIVITIES,
      workflowTaskPollers: e.WORKER_WORKFLOW_TASK_POLLERS,
      activityTaskPollers: e.WORKER_ACTIVITY_TASK_POLLERS,
      stickyQueueTimeoutMs: e.WORKER_STICKY_QUEUE_TIMEOUT_MS,
    },
    holds: { ttlSeconds: e.HOLD_TTL_SECONDS, maxExtensions: e.HOLD_MAX_EXTENSIONS },
    booking: { maxStayNights: e.BOOKING_MAX_STAY_NIGHTS, pmsTimeoutSeconds: e.BOOKING_PMS_TIMEOUT_SECONDS },
    media: {
      dir: e.MEDIA_DIR,
      indexTtlSeconds: e.MEDIA_INDEX_TTL_SECONDS,
      downloadTimeoutMs: e.MEDIA_DOWNLOAD_TIMEOUT_MS,
      allowedHosts: e.MEDIA_ALLOWED_HOSTS,
      tenantQuotaBytes: e.MEDIA_TENANT_QUOTA_BYTES,
      minFreeBytes: e.MEDIA_MIN_FREE_BYTES,
      transcription: e.TRANSCRIPTION_URL
        ? {
            url: e.TRANSCRIPTION_URL,
            apiKey: e.TRANSCRIPTION_API_KEY,
            model: e.TRANSCRIPTION_MODEL,
            allowPrivateNetworks: e.TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS,
          }
        : undefined,
    },
    workerMetricsPort: e.WORKER_METRICS_PORT,
    workerMetricsHost: e.WORKER_METRICS_HOST,
    observability: {
      workerSdkMetricsPort: e.WORKER_SDK_METRICS_PORT,
      workerReadyTimeoutMs: e.WORKER_READY_TIMEOUT_MS,
      workerShutdownGraceSeconds: e.WORKER_SHUTDOWN_GRACE_SECONDS,
      conversationCountIntervalSeconds: e.CONVERSATION_COUNT_INTERVAL_SECONDS,
      apiMetricsPort: e.API_METRICS_PORT,
      apiMetricsHost: e.API_METRICS_HOST,
      apiShutdownGraceSeconds: e.API_SHUTDOWN_GRACE_SECONDS,
    },
    tracing: { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
    admin: {
      authFailureLimit: e.ADMIN_AUTH_FAILURE_LIMIT,
      authFailureWindowSeconds: e.ADMIN_AUTH_FAILURE_WINDOW_SECONDS,
      maxConcurrentVerifications: e.ADMIN_AUTH_MAX_CONCURRENT,
      maxQueuedVerifications: e.ADMIN_AUTH_MAX_WAITING,
      temporalTimeoutMs: e.ADMIN_TEMPORAL_TIMEOUT_MS,
    },
    configFailureRetrySeconds: e.CONFIG_FAILURE_RETRY_SECONDS,
    guestRefKey: e.GUEST_REF_KEY ?? developmentGuestRefKey,
    payloadKeys,
    codec: {
      corsOrigins: e.CODEC_CORS_ORIGINS,
      sessionTtlSeconds: e.CODEC_SESSION_TTL_SECONDS,
      cookieSecure: e.CODEC_COOKIE_SECURE ?? e.NODE_ENV === 'production',
      maxBodyBytes: e.CODEC_MAX_BODY_BYTES,
    },
    guestMessaging: {
      serviceWindowSeconds: e.WHATSAPP_SERVICE_WINDOW_SECONDS,
      pairBurst: e.WHATSAPP_PAIR_BURST,
      pairIntervalMs: e.WHATSAPP_PAIR_INTERVAL_MS,
    },
    nlu: e.NLU_URL
      ? {
          url: e.NLU_URL,
          apiKey: e.NLU_API_KEY,
          model: e.NLU_MODEL,
          timeoutMs: e.NLU_TIMEOUT_MS,
          allowPrivateNetworks: e.NLU_ALLOW_PRIVATE_NETWORKS,
          breakerFailures: e.NLU_BREAKER_FAILURES,
          breakerHalfOpenAfterMs: e.NLU_BREAKER_HALF_OPEN_AFTER_MS,
        }
      : undefined,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
  };
}

/**
 * Reads only the Temporal settings (TEMPORAL_* and WORKFLOW_BUNDLE_PATH), for tools that need nothing else:
 * `npm run temporal` runs without the WhatsApp secrets. Throws a {@link ConfigError} naming every bad variable.
 */
export function loadTemporalConfig(env: Record<string, string | undefined> = process.env): TemporalConfig {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
  const parsed = z.object(temporalEnvShape).safeParse(cleaned);
  const temporal = resolveTemporalEnv(cleaned);
  const lines = [
    ...(parsed.error?.issues ?? []).map((issue) => `  ${issue.path.join('.')}: ${issue.message}`),
    ...temporal.problems.map((problem) => `  ${problem}`),
  ];
  if (!temporal.config || lines.length > 0) throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  return temporal.config;
}
