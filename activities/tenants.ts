import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { writeAudit } from '../lib/db/tenants';
import { ErrorType } from '../lib/domain/errors';
import { normalizeIdentifier, type ResolveTenantInput, type TenantResolution } from '../lib/domain/tenants';
import type { GuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import type { TenantCache, TenantDirectory } from '../lib/tenant-directory';

export interface TenantActivityDeps {
  tenants: TenantCache;
  db: Pool;
  log: Logger;
  /** Names the guest in the audit row of a refusal. */
  guestRefs: GuestRefs;
}

export function createTenantActivities({ tenants, db, log, guestRefs }: TenantActivityDeps) {
  return {
    /**
     * The tenant of a message: the owner of its business number, else the tenant the guest is registered
     * to. When both exist and disagree, the message is refused (non-retryable `TenantIsolationError`),
     * audited, and nothing of either tenant is revealed.
     */
    async resolveTenant({ phoneNumberId, waId }: ResolveTenantInput): Promise<TenantResolution> {
      const identifier = normalizeIdentifier(waId);
      const find = (directory: TenantDirectory) => ({
        owner: directory.byPhoneNumberId.get(phoneNumberId),
        registered: identifier ? directory.byIdentifier.get(identifier) : undefined,
      });
      let directory = await tenants.get();
      let found = find(directory);
      if (found.owner === undefined && found.registered === undefined) {
        // Not in the copy: it may be newer than the copy. Reload (failing retryably if Postgres is down).
        directory = await tenants.get({ forceReloadOlderThanMs: tenants.missReloadMs });
        found = find(directory);
      }
      const { owner, registered } = found;
      if (owner !== undefined && registered !== undefined && owner !== registered) {
        await writeAudit(db, {
          actor: 'worker',
          action: 'tenant.isolation_refused',
          tenantId: owner,
          details: { phoneNumberId, guest: guestRefs.of(waId), registeredTenantId: registered },
        });
        log.warn({ phoneNumberId }, 'message refused: guest registered to another tenant');
        throw ApplicationFailure.nonRetryable(
          'The guest is registered to a different tenant than the business number; message refused',
          ErrorType.TenantIsolationError,
        );
      }
      const tenantId = owner ?? registered;
      const tenant = tenantId === undefined ? undefined : directory.tenants.get(tenantId);
      if (!tenant) return { kind: 'unknown' };
      if (tenant.status !== 'active') return { kind: 'suspended', tenantId: tenant.id };
      return { kind: 'resolved', tenant };
    },
  };
}
