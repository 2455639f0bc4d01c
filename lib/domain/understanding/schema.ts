import { z } from 'zod';
import { intents } from '../intents';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/**
 * The `Understanding` shape as a zod schema: what any understander may answer, checked before the workflow acts on
 * it. A language model's answer that does not pass is not used (the rules answer instead).
 */
export const understandingSchema = z.strictObject({
  intent: z.enum(intents),
  language: z.enum(['es', 'en']),
  stay: z
    .strictObject({
      checkIn: isoDate.optional(),
      checkOut: isoDate.optional(),
      adults: z.number().int().min(1).max(20).optional(),
      children: z.number().int().min(0).max(20).optional(),
    })
    .optional(),
  infoTopic: z.enum(['address', 'check_in', 'check_out', 'parking', 'wifi', 'breakfast', 'pets', 'general']).optional(),
  bookingReference: z.string().max(100).optional(),
  choice: z.number().int().min(1).max(100).optional(),
  problem: z.enum(['checkout_before_checkin', 'in_the_past', 'too_long', 'missing_dates']).optional(),
  source: z.enum(['rules', 'model']).optional(),
  fallbackReason: z.string().max(100).optional(),
});
