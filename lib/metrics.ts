import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

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
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    pmsCircuitState,
    pmsCalls,
    configFailures,
    onCollect(fn) {
      collectors.add(fn);
      return () => collectors.delete(fn);
    },
  };
}
