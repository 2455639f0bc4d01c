import { ApplicationFailure, type Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { configFailureKind, ErrorType } from '../lib/domain/errors';
import type { Logger } from '../lib/log';
import type { Metrics } from '../lib/metrics';

/**
 * Configuration and auth failures: a secret reference that names nothing, a token or key the other side refuses, an
 * address the network policy refuses. Retrying helps only once someone fixes the configuration, so they are retried
 * for a bounded time (`CONFIG_FAILURE_RETRY_SECONDS`, an hour by default), then fail for good as a
 * `ConfigurationFailure` that the workflows record, flag to staff and move past.
 *
 * Temporal's schedule-to-close timeout is per activity, not per error type (a reply may rightly wait out a day-long
 * WhatsApp outage), so the bound is applied here, on the activity side: an attempt that fails for a configuration
 * reason compares now with the activity's first scheduling (`info.scheduledTimestampMs`, the same for every
 * attempt), and past the bound throws the non-retryable failure instead.
 */

/** The kind of configuration failure this error is, if it is one. */
function configFailureKindOf(err: unknown): string | undefined {
  return err instanceof ApplicationFailure ? configFailureKind(err.type, err.details ?? undefined) : undefined;
}

/**
 * What an attempt that failed with `err` should throw: the non-retryable `ConfigurationFailure` once a configuration
 * failure has lasted `boundMs` since the activity was first scheduled, otherwise `err` itself.
 */
export function boundConfigFailure(
  err: unknown,
  info: Pick<Context['info'], 'scheduledTimestampMs' | 'activityType'>,
  boundMs: number,
  now = Date.now(),
): unknown {
  const kind = configFailureKindOf(err);
  if (kind === undefined || !(err instanceof ApplicationFailure) || err.nonRetryable) return err;
  const failingForMs = now - info.scheduledTimestampMs;
  if (failingForMs < boundMs) return err;
  return ApplicationFailure.create({
    type: ErrorType.ConfigurationFailure,
    message: `${err.message} (still failing after ${Math.round(failingForMs / 1000)} s; CONFIG_FAILURE_RETRY_SECONDS is ${Math.round(boundMs / 1000)})`,
    nonRetryable: true,
    details: [{ kind, cause: err.type }],
    cause: err,
  });
}

/** The tenant an activity works for, from its input (`tenantId`), for the metric's label. */
function tenantOf(args: unknown[]): string {
  const tenantId = (args[0] as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof tenantId === 'string' && tenantId !== '' ? tenantId : 'unknown';
}

/**
 * The worker's activity interceptor: counts configuration failures in `config_failures_total{tenant,kind}` and
 * turns them into a non-retryable `ConfigurationFailure` after `boundSeconds`.
 */
export function configFailureInterceptor(options: {
  boundSeconds: number;
  log: Logger;
  metrics?: Metrics | undefined;
  now?: () => number;
}): ActivityInterceptorsFactory {
  const { boundSeconds, log, metrics } = options;
  const now = options.now ?? Date.now;
  return (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          const kind = configFailureKindOf(err);
          if (kind === undefined) throw err;
          const tenant = tenantOf(input.args);
          metrics?.configFailures.inc({ tenant, kind });
          const result = boundConfigFailure(err, ctx.info, boundSeconds * 1000, now());
          if (result !== err) {
            log.error(
              { tenantId: tenant, kind, activity: ctx.info.activityType },
              'configuration failure outlasted its retry bound; recorded and flagged to staff',
            );
          }
          throw result;
        }
      },
    };
    return { inbound };
  };
}
