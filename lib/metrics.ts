import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** `pms_circuit_state` values. */
export const CircuitStateValue = { closed: 0, halfOpen: 1, open: 2 } as const;

export type PmsCallOutcome =
  /** The PMS answered (a 404 or "room not available" is an answer too). */
  | 'success'
  /** 5xx, timeout, reset, malformed body, 429: counts against the breaker. */
  | 'failure'
  /** 401 or another 4xx: the PMS is up but refused us; does not count against the breaker. */
  | 'rejected'
  /** The breaker was open: no request was sent. */
  | 'short_circuited';

/**
 * What became of one attempt of the `sendMessage` activity (`whatsapp_replies_total{result}`): `sent` (WhatsApp
 * accepted it), `retrying` (the attempt failed and Temporal will try again), `failed` (refused for good: a permanent
 * WhatsApp error or a configuration failure), `unknown` (the request may have reached Meta: the conversation waits for
 * its status webhook), and, from the conversation itself, `reconciled` (such a send settled by its status webhook, not
 * sent again).
 */
export type ReplyResult = 'sent' | 'retrying' | 'failed' | 'unknown' | 'reconciled';

/** `conversations{status}`: the search attribute `ConversationStatus` of running conversation workflows. */
export const conversationStatuses = ['active', 'handoff', 'booking', 'closed'] as const;

export type PmsOperation = 'availability' | 'create_booking' | 'get_booking' | 'find_booking' | 'cancel_booking';

/**
 * A process's Prometheus metrics. The worker creates one, hands it to the activities that record into it,
 * and serves `registry.metrics()` (content type `registry.contentType`) on its /metrics endpoint.
 */
export interface Metrics {
  registry: Registry;
  /** Circuit breaker state per PMS origin: 0 closed, 1 half-open (next call is a trial), 2 open. */
  pmsCircuitState: Gauge<'origin'>;
  /** PMS calls (one per activity operation, possibly several HTTP requests) by origin, operation and outcome. */
  pmsCalls: Counter<'origin' | 'operation' | 'outcome'>;
  /**
   * Activity attempts that failed for a configuration reason, by tenant and kind (`secret`, `whatsapp_auth`,
   * `pms_auth`, `pms_address`, `transcription_address`, `media_host`): alert on any increase.
   */
  configFailures: Counter<'tenant' | 'kind'>;
  /** Activity attempts by activity type and outcome (`completed`, `failed`, `cancelled`). */
  activityAttempts: Counter<'activity' | 'outcome'>;
  /** Wall time of each activity attempt, in seconds, by activity type and outcome. */
  activityDuration: Histogram<'activity' | 'outcome'>;
  /** Replies to guests by result (see {@link ReplyResult}): one `sent` per message WhatsApp accepted. */
  replies: Counter<'result'>;
  /** Room holds refused because another conversation holds an overlapping stay, by tenant. */
  holdConflicts: Counter<'tenant'>;
  /** Bytes of guest media stored, by tenant. */
  mediaBytes: Counter<'tenant'>;
  /** Guest media refused (too large, a type not accepted, quota or disk full, ...), by tenant and reason. */
  mediaRefusals: Counter<'tenant' | 'reason'>;
  /** Running conversation workflows by `ConversationStatus`, counted from visibility on a timer. */
  conversations: Gauge<'status'>;
  /**
   * Registers a function run on every scrape just before the gauges are read, so a value that changes with
   * time alone (an open breaker becoming due for its trial call) is current. Returns the unregister function.
   */
  onCollect(fn: () => void): () => void;
}

/** Builds a fresh registry with the project's metrics; `defaultMetrics` adds Node's process metrics. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  const collectors = new Set<() => void>();
  const pmsCircuitState = new Gauge({
    name: 'pms_circuit_state',
    help: 'Circuit breaker state per PMS origin: 0 closed, 1 half-open, 2 open',
    labelNames: ['origin'] as const,
    registers: [registry],
    collect() {
      for (const fn of collectors) fn();
    },
  });
  const pmsCalls = new Counter({
    name: 'pms_calls_total',
    help: 'PMS calls by origin, operation and outcome (success, failure, rejected, short_circuited)',
    labelNames: ['origin', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  const configFailures = new Counter({
    name: 'config_failures_total',
    help: 'Activity attempts that failed for a configuration reason (missing secret, refused token or key, refused address)',
    labelNames: ['tenant', 'kind'] as const,
    registers: [registry],
  });
  const activityAttempts = new Counter({
    name: 'activity_attempts_total',
    help: 'Activity attempts by activity type and outcome (completed, failed, cancelled)',
    labelNames: ['activity', 'outcome'] as const,
    registers: [registry],
  });
  const activityDuration = new Histogram({
    name: 'activity_duration_seconds',
    help: 'Wall time of each activity attempt in seconds, by activity type and outcome',
    labelNames: ['activity', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const replies = new Counter({
    name: 'whatsapp_replies_total',
    help: 'Replies to guests by result: sent, retrying (attempt failed, retried), failed (for good), reconciled',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const holdConflicts = new Counter({
    name: 'hold_conflicts_total',
    help: 'Room holds refused because an overlapping stay is held by another conversation, by tenant',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  const mediaBytes = new Counter({
    name: 'media_stored_bytes_total',
    help: 'Bytes of guest media downloaded and stored, by tenant',
    labelNames: ['tenant'] as const,
    registers: [registry],
  });
  const mediaRefusals = new Counter({
    name: 'media_refusals_total',
    help: 'Guest media refused (not stored), by tenant and reason',
    labelNames: ['tenant', 'reason'] as const,
    registers: [registry],
  });
  const conversations = new Gauge({
    name: 'conversations',
    help: 'Running conversation workflows by ConversationStatus (active, handoff, booking, closed), from visibility',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    pmsCircuitState,
    pmsCalls,
    configFailures,
    activityAttempts,
    activityDuration,
    replies,
    holdConflicts,
    mediaBytes,
    mediaRefusals,
    conversations,
    onCollect(fn) {
      collectors.add(fn);
      return () => collectors.delete(fn);
    },
  };
}
