import { ApplicationFailure } from '@temporalio/common';
import {
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBreaker,
  type IDisposable,
} from 'cockatiel';
import type { Agent, Dispatcher } from 'undici';
import { createHttpAgent } from '../../lib/http';
import type { Logger } from '../../lib/log';
import { CircuitStateValue, type Metrics, type PmsCallOutcome, type PmsOperation } from '../../lib/metrics';
import { countsAgainstBreaker, isPmsOutage, pmsUnavailable } from './failures';

/**
 * The PMS origins a worker talks to: per origin (scheme, host and port of a tenant's `pmsBaseUrl`), one pooled
 * keep-alive agent with the network policy and one circuit breaker, made on first use. The worker owns it: it drops
 * the origins no tenant uses any more on each tenant reload ({@link PmsOrigins.retain}) and closes every pool on
 * shutdown ({@link PmsOrigins.close}).
 */

export interface PmsOriginsOptions {
  /** `HTTP_MAX_CONNECTIONS_PER_ORIGIN`. */
  maxConnectionsPerOrigin: number;
  /** `PMS_HTTP_TIMEOUT_MS`: the connect timeout of each pool. */
  connectTimeoutMs: number;
  /** `PMS_ALLOW_PRIVATE_NETWORKS`: otherwise loopback, private and link-local addresses are refused at connect time. */
  allowPrivateNetworks: boolean;
  /** `PMS_BREAKER_*`. */
  breaker: {
    consecutiveFailures: number;
    failureRatio: number;
    minRequests: number;
    /** The first half-open delay; each trial call that fails doubles it, up to `halfOpenMaxMs`. */
    halfOpenAfterMs: number;
    halfOpenMaxMs: number;
  };
  log: Logger;
  metrics?: Metrics | undefined;
}

/**
 * Opens on `consecutive` failures in a row, or when more than `ratio` of the last `window` calls failed (once
 * `window` calls have been seen): cockatiel's own ConsecutiveBreaker and CountBreaker, both fed every result.
 */
class ConsecutiveOrRatioBreaker implements IBreaker {
  private readonly consecutive: ConsecutiveBreaker;
  private readonly ratio: CountBreaker | undefined;

  constructor({ consecutive, ratio, window }: { consecutive: number; ratio: number; window: number }) {
    this.consecutive = new ConsecutiveBreaker(consecutive);
    // CountBreaker takes a ratio in (0, 1); a ratio of 1 ("all failed") is what the consecutive count says.
    this.ratio =
      ratio < 1 ? new CountBreaker({ threshold: ratio, size: window, minimumNumberOfCalls: window }) : undefined;
  }

  get state(): unknown {
    return { consecutive: this.consecutive.state, ratio: this.ratio?.state };
  }

  set state(value: unknown) {
    const v = value as { consecutive: number; ratio: unknown };
    this.consecutive.state = v.consecutive;
    if (this.ratio) this.ratio.state = v.ratio;
  }

  success(state: CircuitState): void {
    this.consecutive.success();
    this.ratio?.success(state);
  }

  failure(state: CircuitState): boolean {
    const consecutive = this.consecutive.failure();
    const ratio = this.ratio?.failure(state) ?? false;
    return consecutive || ratio;
  }
}

/**
 * The half-open delays: `firstMs` when the breaker opens from closed, doubled after each trial call that fails, at
 * most `maxMs`. cockatiel starts again from `firstMs` once a trial succeeds (it asks the factory, not the last
 * backoff). `onDelay` is told each delay as it is handed out, so the registry knows the time left to the trial.
 */
export function halfOpenBackoff(firstMs: number, maxMs: number, onDelay: (ms: number) => void): IBackoff<unknown> {
  const make = (ms: number): IBackoff<unknown> => ({
    duration: ms,
    next: () => {
      const doubled = Math.min(maxMs, ms * 2);
      onDelay(doubled);
      return make(doubled);
    },
  });
  return {
    duration: firstMs,
    next: () => {
      onDelay(firstMs);
      return make(firstMs);
    },
  };
}

interface OriginEntry {
  origin: string;
  agent: Agent;
  breaker: CircuitBreakerPolicy;
  openedAt: number | undefined;
  /** The current half-open delay (the one the breaker waits before its next trial call). */
  openForMs: number;
  listeners: IDisposable[];
  /** The `pms_calls_total` series of this origin (`operation outcome`), removed with it. */
  callSeries: Set<string>;
}

/**
 * Makes the registry. Calls to one origin share its pool and breaker; while a breaker is open, calls fail at once with
 * a retryable `PmsUnavailable` whose `nextRetryDelay` is the time left until the breaker lets a trial call through,
 * so Temporal does the waiting. The breaker counts only outages (`PmsUnavailable`), never a refusal.
 */
export function createPmsOrigins(options: PmsOriginsOptions) {
  const { log, metrics } = options;
  // cockatiel measures the open time with Date.now, so the time left is measured with it too.
  const now = () => Date.now();
  const { halfOpenAfterMs, halfOpenMaxMs } = options.breaker;
  const origins = new Map<string, OriginEntry>();
  let closed = false;

  function circuitValue(entry: OriginEntry): number {
    switch (entry.breaker.state) {
      case CircuitState.Closed:
        return CircuitStateValue.closed;
      case CircuitState.HalfOpen:
        return CircuitStateValue.halfOpen;
      case CircuitState.Open:
        // cockatiel moves to half-open on the first call after the delay; until then the trial is due.
        return entry.openedAt !== undefined && now() - entry.openedAt >= entry.openForMs
          ? CircuitStateValue.halfOpen
          : CircuitStateValue.open;
      default:
        return CircuitStateValue.open;
    }
  }

  const unregisterCollect = metrics?.onCollect(() => {
    for (const entry of origins.values()) metrics.pmsCircuitState.set({ origin: entry.origin }, circuitValue(entry));
  });

  function originEntry(origin: string): OriginEntry {
    const existing = origins.get(origin);
    if (existing) return existing;
    if (closed) throw pmsUnavailable('The worker is shutting down: no new PMS connections');
    let openForMs = halfOpenAfterMs;
    const breaker = circuitBreaker(handleWhen(countsAgainstBreaker), {
      // A short first wait, so a PMS that blipped is used again within a second; doubling while trials fail, so
      // one that is down is asked at most every `halfOpenMaxMs`.
      halfOpenAfter: halfOpenBackoff(halfOpenAfterMs, halfOpenMaxMs, (ms) => {
        openForMs = ms;
      }),
      breaker: new ConsecutiveOrRatioBreaker({
        consecutive: options.breaker.consecutiveFailures,
        ratio: options.breaker.failureRatio,
        window: options.breaker.minRequests,
      }),
    });
    const created: OriginEntry = {
      origin,
      agent: createHttpAgent({
        maxConnectionsPerOrigin: options.maxConnectionsPerOrigin,
        connectTimeoutMs: options.connectTimeoutMs,
        addressPolicy: { allowPrivateNetworks: options.allowPrivateNetworks },
      }),
      breaker,
      openedAt: undefined,
      get openForMs() {
        return openForMs;
      },
      listeners: [],
      callSeries: new Set(),
    };
    created.listeners.push(
      breaker.onBreak(() => {
        created.openedAt = now();
        log.warn({ origin, retryInMs: openForMs }, 'PMS circuit opened');
      }),
      breaker.onHalfOpen(() => log.info({ origin }, 'PMS circuit half-open: trial call')),
      breaker.onReset(() => {
        created.openedAt = undefined;
        log.info({ origin }, 'PMS circuit closed');
      }),
      breaker.onStateChange(() => metrics?.pmsCircuitState.set({ origin }, circuitValue(created))),
    );
    metrics?.pmsCircuitState.set({ origin }, CircuitStateValue.closed);
    origins.set(origin, created);
    return created;
  }

  function count(entry: OriginEntry, operation: PmsOperation, outcome: PmsCallOutcome) {
    // A call that outlived its origin's eviction must not bring the series back.
    if (origins.get(entry.origin) !== entry) return;
    entry.callSeries.add(`${operation} ${outcome}`);
    metrics?.pmsCalls.inc({ origin: entry.origin, operation, outcome });
  }

  /** Closes an origin's pool (after its requests in flight), stops its breaker's listeners, drops its series. */
  function evict(entry: OriginEntry): Promise<void> {
    origins.delete(entry.origin);
    for (const listener of entry.listeners) listener.dispose();
    metrics?.pmsCircuitState.remove({ origin: entry.origin });
    for (const series of entry.callSeries) {
      const [operation, outcome] = series.split(' ') as [PmsOperation, PmsCallOutcome];
      metrics?.pmsCalls.remove({ origin: entry.origin, operation, outcome });
    }
    return entry.agent.close();
  }

  /** The time left until the breaker's trial call, at least 1 ms. */
  function retryIn(entry: OriginEntry): number {
    const elapsed = entry.openedAt === undefined ? 0 : now() - entry.openedAt;
    return Math.min(entry.openForMs, Math.max(1, entry.openForMs - elapsed));
  }

  return {
    /**
     * Runs one call to `origin` through its breaker, over its pool. An open breaker fails at once with the time left;
     * an outage that trips it (or finds it tripped) is given that time as its `nextRetryDelay`.
     */
    async execute<T>(origin: string, operation: PmsOperation, fn: (dispatcher: Dispatcher) => Promise<T>): Promise<T> {
      const entry = originEntry(origin);
      try {
        const result = await entry.breaker.execute(() => fn(entry.agent));
        count(entry, operation, 'success');
        return result;
      } catch (err) {
        if (isBrokenCircuitError(err)) {
          count(entry, operation, 'short_circuited');
          const retryInMs = retryIn(entry);
          throw pmsUnavailable(
            `PMS at ${entry.origin} is failing; circuit open, next trial call in ${retryInMs} ms`,
            { origin: entry.origin, retryInMs },
            retryInMs,
          );
        }
        count(entry, operation, isPmsOutage(err) ? 'failure' : 'rejected');
        // This failure tripped the breaker (or found it tripped by another call): the next attempt is
        // pointless before the half-open trial, so Temporal waits for the breaker, not its own backoff.
        const open = entry.openedAt !== undefined || entry.breaker.state === CircuitState.Open;
        if (isPmsOutage(err) && open && err instanceof ApplicationFailure && !err.nextRetryDelay) {
          const retryInMs = retryIn(entry);
          throw pmsUnavailable(
            `${err.message}; circuit open, next trial call in ${retryInMs} ms`,
            { origin: entry.origin, retryInMs },
            retryInMs,
          );
        }
        throw err;
      }
    },

    /** Drops every origin not in `inUse`: its pool (after its requests in flight), breaker and metric series. */
    retain(inUse: ReadonlySet<string>): void {
      for (const entry of [...origins.values()]) {
        if (inUse.has(entry.origin)) continue;
        evict(entry).catch((err: unknown) => log.warn({ err, origin: entry.origin }, 'PMS pool not closed'));
        log.info({ origin: entry.origin }, 'PMS origin no tenant uses any more: pool, breaker and metrics dropped');
      }
    },

    /** The origins with a pool now. */
    origins(): string[] {
      return [...origins.keys()];
    },

    /** Closes every pool (waiting for requests in flight) and stops the metrics; later calls fail retryably. */
    async close(): Promise<void> {
      closed = true;
      unregisterCollect?.();
      await Promise.all([...origins.values()].map((entry) => evict(entry)));
    },
  };
}

export type PmsOrigins = ReturnType<typeof createPmsOrigins>;
