/**
 * WhatsApp's 24-hour customer-service window: a guest's message opens it for 24 h; after that only an approved
 * template reaches them (https://developers.facebook.com/docs/whatsapp/pricing#customer-service-windows). Pure: safe
 * in workflow code.
 */
import { fillTemplate, type TemplateMessage, type TemplatePurpose } from './guest-templates';
import type { Language } from './language';
import type { MessagingSettings } from './messaging-settings';

/** Meta's "Re-engagement message" error: a free-form message after the window closed. */
export const reEngagementCode = 131047;

/** What the record says when a free-form message could not go out because the window had closed. */
export const windowClosedReason =
  'window_closed: more than 24 h since the guest last wrote; only an approved template reaches them';

/** How a message goes out once the window has closed: as a template, or not at all (and why). */
export type LateSend = { kind: 'template'; template: TemplateMessage } | { kind: 'refused'; reason: string };

/** The tenant's template for `purpose`, filled for the guest's language; refused when the tenant has none. */
export function lateSend(
  messaging: MessagingSettings | undefined,
  purpose: TemplatePurpose,
  language: Language,
  values: Record<string, string | undefined>,
): LateSend {
  const setting = messaging?.templates?.[purpose];
  if (!setting) {
    return {
      kind: 'refused',
      reason: `${windowClosedReason}, and the tenant has no ${purpose} template: staff must reach the guest another way`,
    };
  }
  return { kind: 'template', template: fillTemplate(setting, language, values) };
}

/** Whether a failure's details name Meta's 131047 (the send path puts Meta's code in `details[0].code`). */
export function isReEngagementRefusal(details: readonly unknown[] | null | undefined): boolean {
  const first = details?.[0];
  return typeof first === 'object' && first !== null && (first as { code?: unknown }).code === reEngagementCode;
}
