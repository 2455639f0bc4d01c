import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { ErrorType } from '../lib/domain/errors';
import type { DownloadMediaResult } from '../lib/domain/media';
import type { Metrics, ReplyResult } from '../lib/metrics';
import type { AcquireHoldResult } from './locks';

/** Failure types the send path never retries (workflows/conversation/activity-options.ts, `retry.send`). */
const replyFailedForGood = new Set<string>([ErrorType.WhatsAppPermanentError, ErrorType.ConfigurationFailure]);

function tenantOf(args: unknown[]): string {
  const tenantId = (args[0] as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof tenantId === 'string' && tenantId !== '' ? tenantId : 'unknown';
}

/** What a failed `sendMessage` attempt means for the reply: Temporal retries it unless it failed for good. */
function replyResultOf(err: unknown): ReplyResult {
  if (err instanceof ApplicationFailure && err.type === ErrorType.SendOutcomeUnknown) return 'unknown';
  if (err instanceof ApplicationFailure && (err.nonRetryable || replyFailedForGood.has(err.type ?? ''))) {
    return 'failed';
  }
  return 'retrying';
}

/**
 * The worker's activity metrics, read from each attempt's type, input, result or failure, so the activities
 * themselves record nothing: `activity_attempts_total` and `activity_duration_seconds` for every activity,
 * `whatsapp_replies_total` from `sendMessage`, `hold_conflicts_total` from `acquireHold`, and
 * `media_stored_bytes_total` / `media_refusals_total` from `downloadMedia`.
 */
export function metricsInterceptor(metrics: Metrics): ActivityInterceptorsFactory {
  return (ctx) => {
    const activity = ctx.info.activityType;
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const end = metrics.activityDuration.startTimer({ activity });
        try {
          const result: unknown = await next(input);
          end({ outcome: 'completed' });
          metrics.activityAttempts.inc({ activity, outcome: 'completed' });
          if (activity === 'sendMessage') metrics.replies.inc({ result: 'sent' });
          if (activity === 'acquireHold' && (result as AcquireHoldResult | undefined)?.kind === 'conflict') {
            metrics.holdConflicts.inc({ tenant: tenantOf(input.args) });
          }
          if (activity === 'downloadMedia') {
            const media = result as DownloadMediaResult | undefined;
            const tenant = tenantOf(input.args);
            if (media?.kind === 'stored') metrics.mediaBytes.inc({ tenant }, media.size);
            if (media?.kind === 'rejected') metrics.mediaRefusals.inc({ tenant, reason: media.reason });
          }
          return result;
        } catch (err) {
          const outcome = err instanceof CancelledFailure ? 'cancelled' : 'failed';
          end({ outcome });
          metrics.activityAttempts.inc({ activity, outcome });
          if (activity === 'sendMessage') metrics.replies.inc({ result: replyResultOf(err) });
          throw err;
        }
      },
    };
    return { inbound };
  };
}
