/**
 * Every retry policy and timeout of the conversation and of its child, the booking saga, set once. Call sites pass
 * only a `summary` for operators, and a schedule-to-close deadline where it comes from the workflow's input.
 */
import {
  ActivityCancellationType,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
  type LocalActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType, startToCloseTimeoutType } from '../../lib/domain/errors';

/** 1 s, doubling: Temporal's default backoff, written out so each policy reads whole. */
const backoff = { initialInterval: '1 second', backoffCoefficient: 2 } as const;

/** No `maximumAttempts` anywhere: an outage delays the work; deadlines (schedule-to-close) bound it where needed. */
const retry = {
  /** While Postgres is down (and the cached copy is too old) the conversation waits. */
  tenant: { ...backoff, maximumInterval: '30 seconds', nonRetryableErrorTypes: [ErrorType.TenantIsolationError] },
  understand: { ...backoff, maximumInterval: '10 seconds' },
  pms: {
    ...backoff,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [ErrorType.PmsRejected, ErrorType.PmsNotConfigured, ErrorType.InvalidDates],
  },
  media: { ...backoff, maximumInterval: '1 minute' },
  /** A WhatsApp outage delays a message, it does not lose it. */
  send: { ...backoff, maximumInterval: '1 minute', nonRetryableErrorTypes: [ErrorType.WhatsAppPermanentError] },
  /**
   * The conversation's replies: as `send`, but an attempt whose outcome is unknown (after the request was written, or
   * a worker that died mid-send) is not retried by Temporal; the conversation reconciles it (replies.ts).
   */
  reply: {
    ...backoff,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ErrorType.WhatsAppPermanentError, ErrorType.SendOutcomeUnknown, startToCloseTimeoutType],
  },
  /** While Redis is down the booking waits for it. */
  holds: { ...backoff, maximumInterval: '30 seconds', nonRetryableErrorTypes: [ErrorType.InvalidDates] },
  /** The interaction log is best effort: retried while Redis is down, within its short deadline. */
  interactionLog: { ...backoff, maximumInterval: '10 seconds' },
  /** Undoing must finish even if the PMS is down for a while. */
  undo: {
    ...backoff,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ErrorType.PmsRejected, ErrorType.PmsNotConfigured],
  },
} satisfies Record<string, RetryPolicy>;

const options = {
  resolveTenant: { startToCloseTimeout: '15 seconds', retry: retry.tenant },
  understand: { startToCloseTimeout: '10 seconds', retry: retry.understand },
  /** The guest is waiting for rooms: give up after two minutes and say so, rather than keep them waiting. */
  checkAvailability: { startToCloseTimeout: '30 seconds', scheduleToCloseTimeout: '2 minutes', retry: retry.pms },
  /** The guest asked to cancel a confirmed booking: worth longer than an availability answer before staff take over. */
  cancelConfirmedBooking: {
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '10 minutes',
    retry: retry.pms,
  },
  downloadMedia: {
    // Up to 100 MB documents; the heartbeat shows a stalled download long before this.
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    // Meta keeps media for 7 days; after an hour of failures staff take over rather than the guest waiting.
    scheduleToCloseTimeout: '1 hour',
    retry: retry.media,
  },
  /** Transcription is a convenience; the activity heartbeats every 2 s while the service works. */
  transcribeAudio: {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: '5 minutes',
    retry: retry.media,
  },
  /** Bounded per call by the input's send timeout (WhatsApp's 24 h window): see {@link sendDeadline}. */
  sendMessage: { startToCloseTimeout: '30 seconds', retry: retry.send },
  /** The conversation's replies, reconciled when their outcome is unknown; bounded like `sendMessage`. */
  sendReply: { startToCloseTimeout: '30 seconds', retry: retry.reply },
  holds: { startToCloseTimeout: '10 seconds', retry: retry.holds },
  /** Bounded per call by the input's PMS timeout: see {@link secondsDeadline}. */
  createBooking: {
    startToCloseTimeout: '30 seconds',
    // Wait for an attempt in flight to finish before compensating, so its outcome is known.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: retry.pms,
  },
  /** No deadline: Temporal retries until the PMS answers. */
  undo: { startToCloseTimeout: '30 seconds', retry: retry.undo },
  /** Nobody waits for it (see workflows/conversation/interactions.ts); after a minute of Redis failing, given up. */
  recordInteractions: {
    startToCloseTimeout: '5 seconds',
    scheduleToCloseTimeout: '1 minute',
    retry: retry.interactionLog,
  },
} satisfies Record<string, ActivityOptions>;

/**
 * Read receipt and typing indicator: a local activity (no task-queue round trip, so it goes out within a second of
 * the webhook). Best effort: a few quick attempts, then the conversation answers anyway.
 */
const markReadOptions = {
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: '15 seconds',
  retry: { ...backoff, maximumAttempts: 3, nonRetryableErrorTypes: [ErrorType.WhatsAppPermanentError] },
} satisfies LocalActivityOptions;

/**
 * The steps of a message that need no trip through Temporal's task queues (patch `perf-local-steps`): they run as local
 * activities in the worker, inside the workflow task that handles the message, and their results are recorded in the
 * history as markers (with the same summaries). On the dev server each trip they save is ~40 ms.
 */
const localOptions = {
  /**
   * The worker's cached tenant directory answers without I/O. One try: when it needs Postgres and Postgres fails, the
   * regular `resolveTenant` activity takes over and retries, visible to operators as a pending activity.
   */
  resolveTenant: { startToCloseTimeout: '5 seconds', retry: { maximumAttempts: 1 } },
  /** CPU only (rule-based), or a model with the rules as fallback: retried as the activity was. */
  understand: { startToCloseTimeout: '10 seconds', retry: retry.understand },
} satisfies Record<string, LocalActivityOptions>;

/** `resolveTenant` and `understand` as local activities (see {@link localOptions}). */
export const { resolveTenant: resolveTenantLocally } = proxyLocalActivities<Activities>(localOptions.resolveTenant);
export const { understand: understandLocally } = proxyLocalActivities<Activities>(localOptions.understand);

/** The conversation's activities, each proxied with its own options. */
export const { resolveTenant } = proxyActivities<Activities>(options.resolveTenant);
export const { understand } = proxyActivities<Activities>(options.understand);
export const { markRead } = proxyLocalActivities<Activities>(markReadOptions);
export const { checkAvailability } = proxyActivities<Activities>(options.checkAvailability);
export const { cancelBooking: cancelConfirmedBooking } = proxyActivities<Activities>(options.cancelConfirmedBooking);
export const { downloadMedia } = proxyActivities<Activities>(options.downloadMedia);
export const { transcribeAudio } = proxyActivities<Activities>(options.transcribeAudio);
/** The conversation's replies and the saga's messages to the guest go out through the same send path. */
export const { sendMessage } = proxyActivities<Activities>(options.sendMessage);
/** The same activity for the conversation's own sends (bot and operator replies), which reconcile a send in doubt. */
export const { sendMessage: sendReply } = proxyActivities<Activities>(options.sendReply);

/** The interaction log, one call per handled message. */
export const { recordInteractions } = proxyActivities<Activities>(options.recordInteractions);

/** The booking saga's activities. */
export const holds = proxyActivities<Activities>(options.holds);
export const { createBooking } = proxyActivities<Activities>(options.createBooking);
export const undo = proxyActivities<Activities>(options.undo);

/** A schedule-to-close deadline taken from the workflow's input. */
export function secondsDeadline(seconds: number): Pick<ActivityOptions, 'scheduleToCloseTimeout'> {
  return { scheduleToCloseTimeout: `${seconds} seconds` };
}

/** 24 h, WhatsApp's customer-service window: the send deadline of workflows started without one. */
export const defaultSendTimeoutSeconds = 24 * 60 * 60;

/** A message to the guest is retried through outages, but not past the send timeout: then it is undeliverable. */
export function sendDeadline(sendTimeoutSeconds: number | undefined): Pick<ActivityOptions, 'scheduleToCloseTimeout'> {
  return secondsDeadline(sendTimeoutSeconds ?? defaultSendTimeoutSeconds);
}
