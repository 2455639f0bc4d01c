/**
 * Outside WhatsApp's 24 h window a reply goes as the tenant's approved template, or is refused and staff are told;
 * and sends to one guest are paced within Meta's pair rate. Deterministic: workflow time only.
 */
import { patched, sleep } from '@temporalio/workflow';
import { lateSend, type LateSend } from '../../lib/domain/service-window';
import { patches } from './patches';
import type { ConversationMemory } from './state';

/**
 * How a free-form text must go now: `undefined` while the guest's window is open (as it is), else the tenant's
 * `late_reply` template with the text as `{text}`, or a refusal with its reason.
 */
export function lateReply(memory: ConversationMemory, text: string): LateSend | undefined {
  if (!memory.serviceWindowClosed(Date.now())) return undefined;
  // Conversations recorded before this change sent free-form whatever the window said.
  if (!patched(patches.serviceWindow)) return undefined;
  const tenant = memory.tenant;
  return lateSend(tenant?.messaging, 'late_reply', memory.language ?? tenant?.locale ?? 'es', {
    text,
    hotel: tenant?.name,
  });
}

/**
 * Waits, when needed, so sends to this guest stay within Meta's pair rate (error 131056): a burst of `pairBurst`,
 * then one every `pairIntervalMs` (a token bucket in workflow time). Most replies never wait.
 */
export async function pace(memory: ConversationMemory): Promise<void> {
  const { pairBurst = 20, pairIntervalMs = 6_000 } = memory.input.guestMessaging ?? {};
  if (pairIntervalMs === 0) return;
  const now = Date.now();
  const bucket = memory.pairBucket ?? { tokens: pairBurst, at: now };
  const tokens = Math.min(pairBurst, bucket.tokens + (now - bucket.at) / pairIntervalMs);
  if (tokens >= 1) {
    memory.pairBucket = { tokens: tokens - 1, at: now };
    return;
  }
  // Only runs that burst past the bucket carry the marker (the recorded histories never do).
  if (!patched(patches.pairPacing)) return;
  const waitMs = Math.ceil((1 - tokens) * pairIntervalMs);
  await sleep(waitMs);
  memory.pairBucket = { tokens: 0, at: now + waitMs };
}
