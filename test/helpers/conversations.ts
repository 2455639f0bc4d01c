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

/**
 * The names and arguments of the updates a run accepted, as its history records them (decoded by the client's data
 * converter, so with its payload codec when it has one).
 */
export async function acceptedUpdates(
  temporal: Client,
  handle: WorkflowHandle,
): Promise<{ name: string; args: unknown[] }[]> {
  const { events } = await handle.fetchHistory();
  const inputs = (events ?? []).flatMap((e) => {
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
