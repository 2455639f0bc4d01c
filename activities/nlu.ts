import type { Understanding } from '../lib/domain/intents';
import type { Understander, UnderstandInput } from '../lib/domain/understanding';

/** The NLU activities; `createActivities` wires them to the understander the worker chose. */
export function createNluActivities({ nlu }: { nlu: Understander }) {
  return {
    /** Intent and entities of one guest message. Deterministic in its input, so safe to retry. */
    async understand(input: UnderstandInput): Promise<Understanding> {
      return nlu.understand(input);
    },
  };
}
