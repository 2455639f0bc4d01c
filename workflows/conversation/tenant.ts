import { ActivityFailure, ApplicationFailure, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { ErrorType } from '../../lib/domain/errors';
import { TenantId } from '../../lib/domain/search-attributes';
import { resolveTenant } from './activity-options';
import type { ConversationMemory } from './state';

/** Resolves the conversation's tenant; a refusal for isolation is recorded, never retried, never revealed. */
export async function resolveConversationTenant(memory: ConversationMemory): Promise<void> {
  const { input } = memory;
  memory.tenantStale = false;
  setCurrentDetails('Resolving the hotel of this conversation');
  try {
    const resolution = await resolveTenant.executeWithOptions({ summary: `tenant of number ${input.phoneNumberId}` }, [
      { phoneNumberId: input.phoneNumberId, waId: input.waId },
    ]);
    if (resolution.kind === 'resolved') {
      const tenant = resolution.tenant;
      memory.tenant = tenant;
      memory.tenantState = { kind: 'resolved', tenantId: tenant.id, name: tenant.name };
      upsertSearchAttributes([{ key: TenantId, value: tenant.id }]);
    } else {
      memory.tenant = undefined;
      memory.tenantState = resolution;
    }
  } catch (err) {
    if (
      err instanceof ActivityFailure &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === ErrorType.TenantIsolationError
    ) {
      memory.tenant = undefined;
      memory.tenantState = { kind: 'refused', reason: 'isolation' };
      return;
    }
    throw err;
  }
}
