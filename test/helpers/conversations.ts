import type { Client, WorkflowHandle } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { waitFor } from '../../dev/process';
import type { Config } from '../../lib/config';
import { createGuestRefs } from '../../lib/guest-refs';

/**
 * The workflow id of a guest's conversation, found as operators find it: by the guest's keyed reference (`GuestRef`)
 * in Temporal's visibility, whatever the id is made of. Waits until visibility shows it.
 */
export async function conversationIdOf(temporal: Client, config: Config, waId: string): Promise<string> {
  const guestRef = createGuestRefs(config.guestRefKey).of(waId);
  let found: string | undefined;
  await waitFor('the conversation in visibility', async () => {
    for await (const info of temporal.workflow.list({
      query: `WorkflowType = 'conversation' AND GuestRef = '${guestRef}'`,
    })) {
      found = info.workflowId;
      return true;
    }
    return false;
  });
  return found!;
}

/** One event of a workflow's history, as the client fetches it. */
type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * The events of a run and of the runs it continued from (a closed conversation continues as new into its dormant
 * run), oldest run first.
 */
export async function chainEvents(temporal: Client, handle: WorkflowHandle): Promise<HistoryEvent[]> {
  const runs: HistoryEvent[][] = [];
  let current: WorkflowHandle = handle;
  for (;;) {
    const { events } = await current.fetchHistory();
    runs.unshift(events ?? []);
    const previous = events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return runs.flat();
    current = temporal.workflow.getHandle(handle.workflowId, previous);
  }
}

/**
 * The names and arguments of the updates a conversation accepted, as its history records them, in this run and the
 * runs it continued from (decoded by the client's data converter, so with its payload codec when it has one).
 */
export async function acceptedUpdates(
  temporal: Client,
  handle: WorkflowHandle,
): Promise<{ name: string; args: unknown[] }[]> {
  const events = await chainEvents(temporal, handle);
  const inputs = events.flatMap((e) => {
    const input = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
    return input ? [input] : [];
  });
  return Promise.all(
    inputs.map(async (input) => ({
      name: input.name ?? '',
      args: await decodeArrayFromPayloads(temporal.options.loadedDataConverter, input.args?.payloads),
    })),
  );
}
