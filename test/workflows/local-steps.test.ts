import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  conversationWorkflowType,
  inboundMessageSignal,
  stateQuery,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import { ErrorType } from '../../lib/domain/errors';
import type { Understanding } from '../../lib/domain/intents';
import type { InboundMessage } from '../../lib/domain/messages';
import type { TenantProfile, TenantResolution } from '../../lib/domain/tenants';
import { conversationIdFor } from '../helpers/webhooks';
import { useWorkflowEnvironment, withWorker } from './harness';

/**
 * Patch `perf-local-steps` (issue 13): a message's tenant resolution and understanding run as local activities inside
 * the workflow task that handles it, so the reply is one task-queue trip (the send) after that task, not five; each
 * step stays readable in the history as a marker with its summary and result.
 */
const workflowEnv = useWorkflowEnvironment();

const phoneNumberId = '100200313';
const hotel: TenantProfile = {
  id: 'hotel-local',
  name: 'Hotel Local',
  status: 'active',
  locale: 'en',
  timezone: 'Europe/Madrid',
  businessHours: {},
  info: {},
  whatsappTokenRef: null,
};
const meanings: Record<string, Understanding['intent']> = { hello: 'greeting', thanks: 'thanks' };

type Event = temporal.api.history.v1.IHistoryEvent;

/** Stub activities; `resolve` answers the tenant resolution, told whether it runs as a local activity. */
function world(resolve: (local: boolean) => Promise<TenantResolution>) {
  const sent: string[] = [];
  const resolutions: boolean[] = [];
  const activities = {
    resolveTenant: () => {
      const local = Context.current().info.isLocal;
      resolutions.push(local);
      return resolve(local);
    },
    understand: ({ text }) => Promise.resolve({ intent: meanings[text ?? ''] ?? 'unknown', language: 'en' }),
    sendMessage({ text }) {
      sent.push(text);
      return Promise.resolve({ messageId: `wamid.out.${randomUUID()}` });
    },
    recordInteractions: () => Promise.resolve(),
  } satisfies Partial<Activities>;
  return { sent, resolutions, activities };
}

function guest(taskQueue: string) {
  const waId = `1555${Math.floor(Math.random() * 1e7)}`;
  const workflowId = conversationIdFor(phoneNumberId, waId);
  const input: ConversationInput = { phoneNumberId, waId, idleTimeoutSeconds: 600, seenIdsMax: 100 };
  const handle = (): WorkflowHandle<ConversationWorkflow> =>
    workflowEnv().client.workflow.getHandle<ConversationWorkflow>(workflowId);
  return {
    handle,
    async write(text: string): Promise<InboundMessage> {
      const m: InboundMessage = {
        id: `wamid.in.${randomUUID()}`,
        from: waId,
        timestamp: Math.floor(Date.now() / 1000),
        type: 'text',
        text,
      };
      await workflowEnv().client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(
        conversationWorkflowType,
        { workflowId, taskQueue, args: [input], signal: inboundMessageSignal, signalArgs: [m] },
      );
      return m;
    },
    async events(): Promise<Event[]> {
      return (await handle().fetchHistory()).events ?? [];
    },
  };
}

const json = (payload: temporal.api.common.v1.IPayload | null | undefined): unknown =>
  payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : undefined;
const scheduledActivities = (events: Event[]) =>
  events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
/** The local activities recorded in the history: their summaries and results. */
const localActivities = (events: Event[]) =>
  events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .map((e) => ({
      summary: json(e.userMetadata?.summary),
      result: json(e.markerRecordedEventAttributes?.details?.result?.payloads?.[0]),
    }));
const tenantUpserts = (events: Event[]) =>
  events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TenantId)
    .length;

it('answers a message one workflow task after its signal: tenant and understanding are local activities, with their summaries and results in the history', async () => {
  const w = world(() => Promise.resolve({ kind: 'resolved', tenant: hotel }));
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    const hello = await g.write('hello');
    await waitFor('the reply', () => w.sent.length === 1);
    const first = await g.events();
    // Neither step went through the task queue: the send is the first activity task of the message.
    expect(scheduledActivities(first)[0]).toBe('sendMessage');
    expect(scheduledActivities(first)).not.toContain('resolveTenant');
    expect(scheduledActivities(first)).not.toContain('understand');
    const send = first.findIndex((e) => e.activityTaskScheduledEventAttributes);
    expect(first.slice(0, send).filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
    expect(localActivities(first)).toEqual([
      { summary: `tenant of number ${phoneNumberId}`, result: { kind: 'resolved', tenant: hotel } },
      { summary: `understand ${hello.id}`, result: { intent: 'greeting', language: 'en' } },
    ]);
    expect(w.resolutions).toEqual([true]);

    // A follow-up: understood locally too; the tenant is known, and its search attribute was written once.
    const thanks = await g.write('thanks');
    await waitFor('the second reply', () => w.sent.length === 2);
    const both = await g.events();
    expect(scheduledActivities(both)).not.toContain('understand');
    expect(localActivities(both).at(-1)).toEqual({
      summary: `understand ${thanks.id}`,
      result: { intent: 'thanks', language: 'en' },
    });
    expect(tenantUpserts(both)).toBe(1);
    expect((await g.handle().query(stateQuery)).tenant).toMatchObject({ kind: 'resolved', tenantId: hotel.id });
  });
});

it("falls back to the regular activity when the worker's copy cannot answer (Postgres down), which retries", async () => {
  let regularTries = 0;
  const w = world((local) => {
    if (local || regularTries++ === 0) {
      return Promise.reject(ApplicationFailure.retryable('Postgres down', ErrorType.TenantDirectoryUnavailable));
    }
    return Promise.resolve({ kind: 'resolved', tenant: hotel });
  });
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the reply', () => w.sent.length === 1, { timeoutMs: 15_000 });
    // One local try, then the activity: its first attempt failed too, and Temporal retried it.
    expect(w.resolutions).toEqual([true, false, false]);
    // The interactions are scheduled by the workflow task after the send's, which may not have run yet.
    await waitFor('the interactions recorded', async () =>
      scheduledActivities(await g.events()).includes('recordInteractions'),
    );
    expect(scheduledActivities(await g.events())).toEqual(['resolveTenant', 'sendMessage', 'recordInteractions']);
  });
});

it('a refusal for isolation from the local step is final: no reply, no retry, nothing revealed', async () => {
  const w = world(() =>
    Promise.reject(ApplicationFailure.nonRetryable('registered elsewhere', ErrorType.TenantIsolationError)),
  );
  await withWorker(workflowEnv(), w.activities, async (taskQueue) => {
    const g = guest(taskQueue);
    await g.write('hello');
    await waitFor('the refusal', async () => (await g.handle().query(stateQuery)).tenant.kind === 'refused');
    expect(w.resolutions).toEqual([true]);
    expect(w.sent).toEqual([]);
    expect(scheduledActivities(await g.events())).not.toContain('resolveTenant');
  });
});
