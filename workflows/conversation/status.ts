import { upsertSearchAttributes } from '@temporalio/workflow';
import { ConversationStatus } from '../../lib/domain/search-attributes';
import type { ConversationMemory } from './state';

/**
 * Writes the conversation's status to the `ConversationStatus` search attribute when it differs from the one shown,
 * so `TenantId="x" AND ConversationStatus="handoff"` finds every conversation waiting for staff. A conversation on a
 * path its recorded history knows (active, then closed) issues exactly the upserts it always did.
 */
export function showStatus(memory: ConversationMemory): void {
  const status = memory.status;
  if (status === memory.shownStatus) return;
  memory.shownStatus = status;
  upsertSearchAttributes([{ key: ConversationStatus, value: status }]);
}

/** Takes in the outcomes of finished booking sagas, and shows the status that leaves (`booking` ends). */
export function settleBookings(memory: ConversationMemory): void {
  memory.settleBookings();
  showStatus(memory);
}
