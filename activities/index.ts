import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { PmsOrigins } from '../clients/qloapps';
import type { Transcriber } from '../clients/transcriber';
import type { GraphClient } from '../clients/whatsapp-graph';
import type { Config } from '../lib/config';
import type { Understander } from '../lib/domain/understanding';
import type { GuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import type { MediaIndex } from '../lib/media-index';
import type { MediaStore } from '../lib/media-store';
import type { Metrics } from '../lib/metrics';
import type { SecretResolver } from '../lib/secrets';
import type { TenantCache } from '../lib/tenant-directory';
import { holdAuditOutboxKey } from '../lib/hold-audit';
import { createInteractionLog, interactionsOutboxKey } from '../lib/interactions';
import { createInteractionActivities } from './interactions';
import { createLockActivities } from './locks';
import { createMediaActivities } from './media';
import { createNluActivities } from './nlu';
import { createPmsActivities } from './pms';
import { createReadReceiptActivities } from './read-receipts';
import { createTenantActivities } from './tenants';
import { createTranscriptionActivities } from './transcription';
import { createWhatsAppActivities } from './whatsapp';

/** What the activities use; the worker builds each of these once and closes them on shutdown. */
export interface ActivityDeps {
  /** The Graph API client: sends and media downloads. */
  graph: GraphClient;
  tenants: TenantCache;
  db: Pool;
  redis: Redis;
  secrets: SecretResolver;
  config: Config;
  log: Logger;
  nlu: Understander;
  /** The pools and breakers of the PMS origins. */
  pmsOrigins: PmsOrigins;
  mediaStore: MediaStore;
  mediaIndex: MediaIndex;
  transcriber: Transcriber;
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
  // The interaction log's outbox, drained into this worker's database by its flusher (workers/resources.ts).
  const interactions = createInteractionLog({
    redis: deps.redis,
    outboxKey: interactionsOutboxKey(deps.config.databaseUrl),
    guestRefKey: deps.config.guestRefKey,
  });
  return {
    ...createWhatsAppActivities({ ...deps, interactions: { log: interactions, guestRefs: deps.guestRefs } }),
    ...createReadReceiptActivities(deps),
    ...createInteractionActivities({ interactions, guestRefs: deps.guestRefs }),
    ...createTenantActivities(deps),
    ...createLockActivities({
      ...deps,
      holds: deps.config.holds,
      auditOutboxKey: holdAuditOutboxKey(deps.config.databaseUrl),
    }),
    ...createPmsActivities(deps),
    ...createNluActivities(deps),
    ...createMediaActivities({ ...deps, store: deps.mediaStore, index: deps.mediaIndex }),
    ...createTranscriptionActivities({ ...deps, store: deps.mediaStore }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
