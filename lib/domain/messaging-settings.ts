/**
 * A tenant's settings for what its guests see on WhatsApp (the `messaging` column, set through the admin API).
 * Pure: safe in workflow code.
 */
import type { TemplatePurpose, TemplateSetting } from './guest-templates';

export interface MessagingSettings {
  /** Room offers as a list and booking messages with reply buttons; numbered text when off (the default). */
  interactive?: boolean | undefined;
  /** Approved templates, by what they are for; a purpose without one cannot reach a guest outside the 24 h window. */
  templates?: { [P in TemplatePurpose]?: TemplateSetting | undefined } | undefined;
  /** When the pre-arrival and post-stay messages go out, relative to check-in and check-out. */
  stayMessages?:
    { preArrivalBeforeSeconds?: number | undefined; postStayAfterSeconds?: number | undefined } | undefined;
}

/** 24 h before check-in, and 6 h after check-out. */
export const defaultStayMessageOffsets = { preArrivalBeforeSeconds: 24 * 3600, postStayAfterSeconds: 6 * 3600 };
