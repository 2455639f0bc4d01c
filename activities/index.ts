import type { Pool } from 'pg';
import type { Logger } from '../lib/log';
import type { SecretResolver } from '../lib/secrets';
import { createTenantActivities, type TenantCache } from './tenants';
import { createWhatsAppActivities, type WhatsAppClient } from './whatsapp';

export interface ActivityDeps {
  whatsapp: WhatsAppClient;
  tenants: TenantCache;
  db: Pool;
  secrets: SecretResolver;
  log: Logger;
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
  };
}

export type Activities = ReturnType<typeof createActivities>;
