import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import { startPmsStandin, type PmsStandin, type StandinHotel } from '../../dev/pms-standin';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/log';
import type { Metrics } from '../../lib/metrics';
import type { Tracing } from '../../lib/tracing';
import { captureLogger, startWorker, temporalClient, testConfig, testSecrets, type RunningWorker } from './env';
import { createTestTenant, tenantSecretVariable, type TestTenant } from './tenants';
import { startTranscriptionStandin, type TranscriptionStandin } from './transcription';

/** A 32-character QloApps webservice key for the stack's PMS stand-in. */
export const stackPmsKey = 'STACKPMSKEY0123456789ABCDEFGHIJK';

export interface StackOptions {
  /** Configuration for this file (the stand-ins' URLs are set already); a function gets the stand-ins. */
  config?: Record<string, string> | ((standins: Standins) => Record<string, string>);
  /** The PMS stand-in's key and hotels (its demo hotel by default). */
  pms?: { webserviceKey?: string; hotels?: StandinHotel[] };
  /** Start the transcription stand-in and set `TRANSCRIPTION_URL` to it. */
  transcription?: boolean;
  /** The worker's environment for tenants' secrets; the stack adds each PMS tenant's key to it. */
  secrets?: Record<string, string>;
  metrics?: Metrics;
  /** The stand-ins keep idle connections this long (Node's 5 s by default). */
  keepAliveTimeoutMs?: number;
  /** Names the worker's Postgres connections and Redis client. */
  applicationName?: string;
  /** The API's logger (a captured, silent one by default). */
  log?: Logger;
  /** Traces from the API, its Temporal client and the worker (lib/tracing.ts); none by default. */
  tracing?: Tracing;
}

export interface Standins {
  whatsapp: WhatsAppStandin;
  pms: PmsStandin;
  transcription: TranscriptionStandin | undefined;
}

export interface Stack extends Standins {
  config: Config;
  temporal: Client;
  worker: RunningWorker;
  /** The API, driven with supertest (`postSigned(stack.app, payload)`). */
  app: ReturnType<typeof createApp>;
  /** The worker's environment: add a secret here and the worker resolves it on its next read. */
  secrets: Record<string, string>;
  /**
   * A tenant of this file's own, which the worker knows at once (its directory is reloaded). With `pmsHotelId` its
   * PMS is the stand-in's hotel of that id, and the stand-in's key is in the worker's environment.
   */
  tenant(options?: Parameters<typeof createTestTenant>[1] & { pmsHotelId?: number }): Promise<TestTenant>;
  /** Stops the worker, closes the client and the stand-ins. */
  stop(): Promise<void>;
}

/**
 * What most integration tests run against, started once per file: the WhatsApp and QloApps stand-ins (and the
 * transcription one when asked for), a config pointing at them with a task queue of the file's own, a Temporal client,
 * the real worker on the run's workflow bundle, and the API.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const pmsKey = options.pms?.webserviceKey ?? stackPmsKey;
  const keepAlive = options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeoutMs: options.keepAliveTimeoutMs };
  const [whatsapp, pms, transcription] = await Promise.all([
    startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN, ...keepAlive }),
    startPmsStandin({
      webserviceKey: pmsKey,
      ...(options.pms?.hotels ? { hotels: options.pms.hotels } : {}),
      ...keepAlive,
    }),
    options.transcription ? startTranscriptionStandin(keepAlive) : undefined,
  ]);
  const standins: Standins = { whatsapp, pms, transcription };
  let temporal: Client | undefined;
  let worker: RunningWorker | undefined;
  const stop = async () => {
    await worker?.stop();
    await temporal?.connection.close();
    await Promise.allSettled([whatsapp.close(), pms.close(), transcription?.close()]);
  };
  try {
    const overrides = typeof options.config === 'function' ? options.config(standins) : (options.config ?? {});
    const config = testConfig({
      WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
      ...(transcription ? { TRANSCRIPTION_URL: transcription.url } : {}),
      ...overrides,
    });
    const secrets = options.secrets ?? {};
    temporal = await temporalClient(config, options.tracing);
    worker = await startWorker(config, {
      secrets,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
      ...(options.tracing ? { tracing: options.tracing } : {}),
    });
    const running = worker;
    const app = createApp({
      temporal,
      config,
      log: options.log ?? captureLogger().log,
      db: running.db,
      ...(options.tracing ? { tracer: options.tracing.tracer } : {}),
    });
    return {
      ...standins,
      config,
      temporal,
      worker: running,
      app,
      secrets,
      async tenant({ pmsHotelId, ...tenantOptions } = {}) {
        const pmsSettings = pmsHotelId === undefined ? {} : { pms: { baseUrl: pms.url, hotelId: pmsHotelId } };
        const tenant = await createTestTenant(running.db, { ...pmsSettings, ...tenantOptions });
        if (pmsHotelId !== undefined) secrets[tenantSecretVariable(tenant.id)] = pmsKey;
        await running.tenants.reload(); // what the admin API's NOTIFY does
        return tenant;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
