import { z } from 'zod';
import { templateNamePattern, templateParameterMax, type templatePurposes } from '../../lib/domain/guest-templates';

/**
 * A tenant's `messaging` settings as the admin API takes and shows them (issue 12: what guests see). Replaced whole,
 * like `info`.
 */
const templateSetting = z
  .strictObject({
    name: z
      .string()
      .regex(templateNamePattern, "Meta's template name: lowercase letters, digits and _, at most 512")
      .meta({ description: "The approved template's name at Meta" }),
    languages: z
      .strictObject({
        es: z
          .string()
          .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a Meta language code like es or en_US')
          .optional(),
        en: z
          .string()
          .regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a Meta language code like es or en_US')
          .optional(),
      })
      .refine((value) => Object.keys(value).length > 0, 'give the language code of at least one translation')
      .meta({ description: "The template's language code at Meta for guests writing in each language" }),
    parameters: z
      .array(z.string().min(1).max(templateParameterMax))
      .max(20)
      .meta({
        description:
          'Body parameters in order ({{1}}, {{2}}, ...): texts with placeholders {hotel}, {guestName}, {text}, ' +
          '{checkInDate}, {checkInTime}, {checkOutDate}, {address}, {reference}',
      }),
  })
  .meta({ description: 'An approved WhatsApp template' });

export const messagingSettings = z
  .strictObject({
    interactive: z
      .boolean()
      .optional()
      .meta({ description: 'Room offers as a list and booking messages with buttons; numbered text when false' }),
    templates: z
      .strictObject({
        late_reply: templateSetting.optional(),
        pre_arrival: templateSetting.optional(),
        post_stay: templateSetting.optional(),
      } satisfies Record<(typeof templatePurposes)[number], unknown>)
      .optional()
      .meta({
        description:
          'Templates by purpose: late_reply (a reply after the 24 h window), pre_arrival, post_stay. Without one, ' +
          'such a message is refused and staff are told',
      }),
    stayMessages: z
      .strictObject({
        preArrivalBeforeSeconds: z
          .number()
          .int()
          .min(0)
          .max(30 * 86400)
          .optional(),
        postStayAfterSeconds: z
          .number()
          .int()
          .min(0)
          .max(30 * 86400)
          .optional(),
      })
      .optional()
      .meta({ description: 'Pre-arrival message this long before check-in; thank-you this long after check-out' }),
  })
  .meta({ description: 'What guests see on WhatsApp: interactive messages, templates, stay messages' });
