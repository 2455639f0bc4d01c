import { readFileSync } from 'node:fs';
import type { Config } from './config';

/**
 * Connection options for a Temporal server, shared by the API (client) and the worker (native connection):
 * plain gRPC for the dev server, mTLS or an API key for a production cluster or Temporal Cloud.
 */
export function temporalConnectionOptions(config: Config['temporal']) {
  const tls = config.tls
    ? {
        ...(config.tlsServerName ? { serverNameOverride: config.tlsServerName } : {}),
        ...(config.tlsCertPath && config.tlsKeyPath
          ? { clientCertPair: { crt: readFileSync(config.tlsCertPath), key: readFileSync(config.tlsKeyPath) } }
          : {}),
      }
    : undefined;
  return {
    address: config.address,
    ...(tls ? { tls } : {}),
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  };
}
