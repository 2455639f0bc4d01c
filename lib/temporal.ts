import type { TLSConfig } from '@temporalio/client';
import { toClientOptions } from '@temporalio/envconfig';
import type { TemporalConfig } from './temporal-config';

/** What both `Connection` (the API's client) and `NativeConnection` (the worker's) accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * Connection options for a Temporal server, shared by the API (client) and the worker (native connection): plain gRPC
 * for the dev server, TLS with a server CA, mTLS or an API key for a production cluster or Temporal Cloud. envconfig's
 * own `toClientOptions` turns the resolved profile into them, reading the certificate files now, so a renewed
 * certificate is picked up at the next connect.
 */
export function temporalConnectionOptions(config: TemporalConfig): TemporalConnectionOptions {
  const { connectionOptions } = toClientOptions(config.profile);
  const { tls, metadata } = connectionOptions;
  return {
    address: config.address,
    ...(tls !== undefined && tls !== null ? { tls } : {}),
    ...(config.apiKey !== undefined ? { apiKey: config.apiKey } : {}),
    ...(metadata && Object.keys(metadata).length > 0 ? { metadata: metadata as Record<string, string> } : {}),
  };
}
