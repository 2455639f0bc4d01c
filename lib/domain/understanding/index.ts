/**
 * Understanding guest messages, rule-based, for Spanish and English: pure CPU work (no I/O, no clock; `Intl` only), so
 * it may run in an activity, a local activity or the workflow itself.
 */
export {
  createRuleBasedUnderstander,
  type UnderstandContext,
  type Understander,
  type UnderstandInput,
} from './understander';
