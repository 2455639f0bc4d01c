import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  conversationWorkflowType,
  inboundMessageSignal,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import type { InboundMessage } from '../../lib/domain/messages';
import type { TenantProfile } from '../../lib/domain/tenants';
import { conversationIdFor } from '../helpers/webhooks';
import { patchMarkers, useWorkflowEnvironment, withWorker } from './harness';

/**
 * Issue 12, point 3: sends to one guest stay within Meta's pair rate (131056). A burst goes at once; past it the
 * conversation waits (a timer) so sends are one interval apart.
 */
const workflowEnv = useWorkflowEnvironment();

const hotel: TenantProfile = {
  id: 'hotel-pacing',
  name: 'Hotel Pausa',
  status: 'active',
  locale: 'en',
  timezone: 'Europe/Madrid',
  businessHours: {},
  info: {},
  whatsappTokenRef: null,
};

it('sends a burst at once, then one per interval', async () => {
  const sentAt: number[] = [];
  const activities = {
    resolveTenant: () => Promise.resolve({ kind: 'resolved', tenant: hotel }),
    understand: () => Promise.resolve({ intent: 'greeting', language: 'en' }),
    sendMessage() {
      sentAt.push(Date.now());
      return Promise.resolve({ messageId: `wamid.out.${randomUUID()}` });
    },
    recordInteractions: () => Promise.resolve(),
  } satisfies Partial<Activities>;
  await withWorker(workflowEnv(), activities, async (taskQueue) => {
    const waId = `1555${Math.floor(Math.random() * 1e7)}`;
    const workflowId = conversationIdFor('100200300', waId);
    const input: ConversationInput = {
      phoneNumberId: '100200300',
      waId,
      idleTimeoutSeconds: 600,
      seenIdsMax: 100,
      guestMessaging: { serviceWindowSeconds: 86_400, pairBurst: 2, pairIntervalMs: 1_500 },
    };
    for (let i = 0; i < 4; i++) {
      const message: InboundMessage = {
        id: `wamid.in.${randomUUID()}`,
        from: waId,
        timestamp: Math.floor(Date.now() / 1000),
        type: 'text',
        text: `hello ${i}`,
      };
      await workflowEnv().client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
        conversationWorkflowType,
        { workflowId, taskQueue, args: [input], signal: inboundMessageSignal, signalArgs: [message] },
      );
    }
    await waitFor('four replies', () => sentAt.length === 4, { timeoutMs: 30_000, intervalMs: 50 });
    const gaps = sentAt.slice(1).map((at, i) => at - sentAt[i]!);
    // The burst of two goes at once; the third and fourth wait for the bucket, an interval apart (timed here at the
    // activity, so give or take a task's scheduling). "At once" is read from the history, not the clock, which a busy
    // machine stretches: pacing timers (at most an interval long, unlike the idle timer) start only after the first two sends.
    expect(sentAt[2]! - sentAt[0]!).toBeGreaterThanOrEqual(1_200);
    expect(sentAt[3]! - sentAt[0]!).toBeGreaterThanOrEqual(2_700);
    expect(gaps[2]).toBeGreaterThanOrEqual(1_000);
    const handle = workflowEnv().client.workflow.getHandle(workflowId);
    const events = (await handle.fetchHistory()).events ?? [];
    const isPacingTimer = (e: (typeof events)[number]) => {
      const timeout = e.timerStartedEventAttributes?.startToFireTimeout;
      return timeout != null && Number(timeout.seconds ?? 0) * 1000 + (timeout.nanos ?? 0) / 1e6 <= 1_500;
    };
    const sends = events.flatMap((e, i) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage' ? [i] : [],
    );
    // No pacing timer before the second send; at least one before the third and fourth.
    const firstTimer = events.findIndex(isPacingTimer);
    expect(firstTimer).toBeGreaterThan(sends[1]!);
    expect(firstTimer).toBeLessThan(sends[3]!);
    expect(await patchMarkers(handle)).toContain('guest-ux-pair-pacing');
    await handle.terminate('test over');
  });
});
