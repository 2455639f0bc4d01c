import { createModelUnderstander } from '../clients/nlu';
import type { Config } from '../lib/config';
import { createRuleBasedUnderstander, type Understander } from '../lib/domain/understanding';
import { createHttpAgent } from '../lib/http';

/**
 * The understander `NLU_*` asks for: the rules by default; with `NLU_URL`, a chat-completions model with the rules
 * as its fallback, over an agent of its own that applies the address rule (`NLU_ALLOW_PRIVATE_NETWORKS`), as the
 * transcription service's does. `close()` closes that agent.
 */
export function understanderFor(config: Config): { understander: Understander; close: () => Promise<void> } {
  const rules = createRuleBasedUnderstander();
  const service = config.nlu;
  if (!service) return { understander: rules, close: () => Promise.resolve() };
  const agent = createHttpAgent({
    maxConnectionsPerOrigin: config.http.maxConnectionsPerOrigin,
    addressPolicy: { allowPrivateNetworks: service.allowPrivateNetworks },
  });
  return { understander: createModelUnderstander(service, agent, rules), close: () => agent.close() };
}
