import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  setCurrentDetails,
  TemporalFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../../lib/domain/errors';
import { TenantId } from '../../lib/domain/search-attributes';
import type { ResolveTenantInput, TenantResolution } from '../../lib/domain/tenants';
import { resolveTenant, resolveTenantLocally } from './activity-options';
import { patches } from './patches';
import type { ConversationMemory } from './state';

/** Resolves the conversation's tenant; a refusal for isolation is recorded, never retried, never revealed. */
export async function resolveConversationTenant(memory: ConversationMemory): Promise<void> {
  const { input } = memory;
  memory.tenantStale = false;
  setCurrentDetails('Resolving the hotel of this conversation');
  try {
    const args: [ResolveTenantInput] = [{ phoneNumberId: input.phoneNumberId, waId: input.waId }];
    const summary = `tenant of number ${input.phoneNumberId}`;
    const local = patched(patches.localSteps);
    const resolution = local
      ? await resolveLocallyFirst(summary, args)
      : await resolveTenant.executeWithOptions({ summary }, args);
    if (resolution.kind === 'resolved') {
      const tenant = resolution.tenant;
      memory.tenant = tenant;
      memory.tenantState = { kind: 'resolved', tenantId: tenant.id, name: tenant.name };
      // Each run and each re-resolution used to write it again; the value carries over continue-as-new.
      if (!local || workflowInfo().typedSearchAttributes.get(TenantId) !== tenant.id) {
        upsertSearchAttributes([{ key: TenantId, value: tenant.id }]);
      }
    } else {
      memory.tenant = undefined;
      memory.tenantState = resolution;
    }
  } catch (err) {
    if (isIsolationRefusal(err)) {
      memory.tenant = undefined;
      memory.tenantState = { kind: 'refused', reason: 'isolation' };
      return;
    }
    throw err;
  }
}

/** An activity's refusal: wrapped in an `ActivityFailure`, or as such from a local activity. */
function isIsolationRefusal(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === ErrorType.TenantIsolationError;
}

/**
 * The worker's cached directory first, as a local activity (no task-queue trip); when that cannot answer (it needed
 * Postgres, and Postgres failed), the regular activity, which retries until it can.
 */
async function resolveLocallyFirst(summary: string, args: [ResolveTenantInput]): Promise<TenantResolution> {
  try {
    return await resolveTenantLocally.executeWithOptions({ summary }, args);
  } catch (err) {
    // A local activity's failure may arrive unwrapped (the activity's own failure, or a timeout).
    if (!(err instanceof TemporalFailure) || isIsolationRefusal(err)) throw err;
    return resolveTenant.executeWithOptions({ summary }, args);
  }
}
