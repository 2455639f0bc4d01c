import type { GraphClient } from '../clients/whatsapp-graph';
import type { MarkReadInput } from '../lib/domain/messages';
import { requireSecret, type SecretResolver } from '../lib/secrets';

/** The read-receipt activity; `createActivities` wires it to the worker's Graph API client. */
export function createReadReceiptActivities({ graph, secrets }: { graph: GraphClient; secrets: SecretResolver }) {
  return {
    /**
     * Marks a guest's message read and, when asked, shows the typing indicator: one Graph call. Idempotent (marking
     * read twice is harmless at Meta), so Temporal may retry it freely.
     */
    async markRead(input: MarkReadInput): Promise<void> {
      if (!input.tokenRef) return graph.markRead(input);
      return graph.markRead(input, requireSecret(secrets, input.tenantId, input.tokenRef, 'WhatsApp token'));
    },
  };
}
