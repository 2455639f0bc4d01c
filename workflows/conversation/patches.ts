/**
 * `patched()` ids of the conversation: each marks a change to the commands it issues, so the conversations running on
 * the code before it (and their recorded histories) replay on the old path. See README, "Changing workflow code".
 */
export const patches = {
  /** Continue as new on the project's own history bound, not only when the server suggests it. */
  historyBound: 'continue-as-new-history-bound',
  /** A guest who asks for a person puts the conversation in handoff (`ConversationStatus` = handoff). */
  guestHandoff: 'guest-asks-for-person-handoff',
  /** `ConversationStatus` = booking while a booking saga runs, and back when it ends. */
  bookingStatus: 'conversation-status-booking',
  /** One `recordInteractions` report per handled message (the interaction log). */
  interactionLog: 'interaction-log',
  /** Issue 12: a guest's message the bot will answer is marked read, with the typing indicator, first. */
  readTyping: 'guest-ux-read-typing',
  /** Issue 12: outside the 24 h window a reply goes as the tenant's template or is refused (also on 131047). */
  serviceWindow: 'guest-ux-service-window',
  /** Issue 12: sends to one guest paced within Meta's pair rate (a timer when a burst runs out). */
  pairPacing: 'guest-ux-pair-pacing',
  /** Issue 12: cancelling a confirmed booking also cancels its pre-arrival and post-stay messages. */
  stayMessagesCancel: 'guest-ux-stay-messages-cancel',
  /** A closed conversation continues as new into a dormant run that drops redeliveries for Meta's 7-day window. */
  dormantRun: 'exactly-once-dormant-run',
  /** A send whose outcome is unknown waits for a status carrying its idempotency key before sending again. */
  reconcileSend: 'exactly-once-reconcile-send',
  /**
   * Issue 13: tenant resolution and understanding run as local activities, inside the workflow task that handles the
   * message, rather than as two activities with a task-queue round trip each; `TenantId` is upserted only when it
   * changes.
   */
  localSteps: 'perf-local-steps',
} as const;
