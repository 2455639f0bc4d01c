import { Context } from '@temporalio/activity';
import type { GraphClient } from '../clients/whatsapp-graph';
import type { SendResult, SendTextInput } from '../lib/domain/messages';
import type { GuestRefs } from '../lib/guest-refs';
import { conversationRef, outboundRow, type InteractionLog } from '../lib/interactions';
import type { Logger } from '../lib/log';
import { requireSecret, type SecretResolver } from '../lib/secrets';

export interface WhatsAppActivityDeps {
  graph: GraphClient;
  secrets: SecretResolver;
  /** Where each message WhatsApp accepted is logged for the analytics; nothing is logged without it. */
  interactions?: { log: InteractionLog; guestRefs: GuestRefs } | undefined;
  log?: Logger | undefined;
}

/** The WhatsApp activities; `createActivities` wires them to the worker's Graph API client. */
export function createWhatsAppActivities({ graph, secrets, interactions, log }: WhatsAppActivityDeps) {
  let logFailing = false;

  /**
   * Logs a message WhatsApp accepted, for the analytics. Not awaited and never thrown: the reply is out, and
   * neither its result nor its timing may depend on Redis. A row lost to a Redis outage is only missing from the
   * figures.
   */
  function logSent(input: SendTextInput, result: SendResult): void {
    const { info } = Context.current();
    // Only a workflow's messages to a guest are interactions (a standalone activity run is not).
    if (!interactions || !input.tenantId || !info.workflowExecution) return;
    const row = outboundRow(interactions.log, {
      tenantId: input.tenantId,
      conversationRef: conversationRef(interactions.guestRefs, input.phoneNumberId, input.to),
      messageId: result.messageId,
      sendKey: `${info.workflowExecution.runId}:${info.activityId}:${info.attempt}`,
      replyTo: input.replyTo,
      text: input.text,
      at: Date.now(),
      bookingOutcome: input.bookingOutcome,
    });
    interactions.log.append([row]).then(
      () => {
        if (logFailing) log?.info('interaction log written again');
        logFailing = false;
      },
      (err: unknown) => {
        // Once per outage, not once per message.
        if (!logFailing) log?.warn({ err }, 'interaction log not written (Redis); replies go on');
        logFailing = true;
      },
    );
  }

  return {
    /** Sends a text reply to a guest. Idempotency is the workflow's job: it calls this once per reply. */
    async sendMessage(input: SendTextInput): Promise<SendResult> {
      const result = !input.tokenRef
        ? await graph.sendText(input)
        : await graph.sendText(input, requireSecret(secrets, input.tenantId, input.tokenRef, 'WhatsApp token'));
      logSent(input, result);
      return result;
    },
  };
}
