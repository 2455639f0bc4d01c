import { Agent } from 'undici';

export interface HttpAgentOptions {
  maxConnectionsPerOrigin: number;
  connectTimeoutMs?: number;
}

/**
 * The one pooled, keep-alive HTTP agent of a process. Clients receive it as a dependency; none creates
 * its own per request, so connections to Meta (and later the PMS) are reused.
 */
export function createHttpAgent({ maxConnectionsPerOrigin, connectTimeoutMs = 5_000 }: HttpAgentOptions): Agent {
  return new Agent({
    connections: maxConnectionsPerOrigin,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connect: { timeout: connectTimeoutMs },
  });
}
