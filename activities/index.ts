import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { Dispatcher } from 'undici';
import type { Config } from '../lib/config';
import type { GuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import type { SecretResolver } from '../lib/secrets';
import type { Metrics } from '../lib/metrics';
import { holdAuditOutboxKey } from './hold-audit';
import { createLockActivities } from './locks';
import { createMediaActivities } from './media';
import { createNluActivities, type Understander } from './nlu';
import { createPmsActivities } from './pms';
import { createTenantActivities, type TenantCache } from './tenants';
import { createWhatsAppActivities, type WhatsAppClient } from './whatsapp';

export interface ActivityDeps {
  whatsapp: WhatsAppClient;
  tenants: TenantCache;
  db: Pool;
  redis: Redis;
  secrets: SecretResolver;
  config: Config;
  log: Logger;
  nlu: Understander;
  /** The process's pooled keep-alive HTTP agent (Graph API media downloads). */
  http: Dispatcher;
  /** The transcription service's agent, with its network policy; see `createMediaActivities`. */
  transcriptionHttp?: Dispatcher;
  metrics?: Metrics;
  /** Keyed guest pseudonyms (`GUEST_REF_KEY`) for audit rows and PMS placeholders. */
  guestRefs: GuestRefs;
}

/**
 * Builds every activity from the clients the worker created. Workflows proxy
 * `ReturnType<typeof createActivities>` through `import type`, so a stub that drifts from this contract
 * fails to compile.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createWhatsAppActivities(deps),
    ...createTenantActivities(deps),
    ...createLockActivities({
      ...deps,
      holds: deps.config.holds,
      auditOutboxKey: holdAuditOutboxKey(deps.config.databaseUrl),
    }),
    ...createPmsActivities(deps),
    ...createNluActivities(deps),
    ...createMediaActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
