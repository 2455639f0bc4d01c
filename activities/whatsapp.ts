import type { GraphClient } from '../clients/whatsapp-graph';
import type { SendResult, SendTextInput } from '../lib/domain/messages';
import { requireSecret, type SecretResolver } from '../lib/secrets';

/** The WhatsApp activities; `createActivities` wires them to the worker's Graph API client. */
export function createWhatsAppActivities({ graph, secrets }: { graph: GraphClient; secrets: SecretResolver }) {
  return {
    /** Sends a text reply to a guest. Idempotency is the workflow's job: it calls this once per reply. */
    async sendMessage(input: SendTextInput): Promise<SendResult> {
      if (!input.tokenRef) return graph.sendText(input);
      return graph.sendText(input, requireSecret(secrets, input.tenantId, input.tokenRef, 'WhatsApp token'));
    },
  };
}
