import { z } from 'zod';

/**
 * The QloApps webservice on the wire: the ids and states it uses and the shapes of its JSON answers (`hotel_ari`,
 * `bookings`, `orders`, errors), validated with zod so an answer that does not match is caught where it arrives.
 */

/**
 * QloApps' default order state ids (install/data/xml/configuration.xml: PS_OS_CANCELED = 4, PS_OS_REFUND = 5).
 * A booking in either no longer holds its rooms.
 */
export const cancelledOrderStates = new Set(['4', '5']);
/** `booking_status` values of the bookings resource (WebserviceSpecificManagementBookings::API_BOOKING_STATUS_*). */
export const bookingStatus = { new: 1, cancelled: 3 } as const;
/** `payment_status`: API_BOOKING_PAYMENT_STATUS_AWATING (sic). */
export const paymentAwaiting = 3;

/** QloApps renders database ids as strings or numbers depending on the resource; we carry them as strings. */
const qloId = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const qloNumber = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);
/** A localised field is a string in JSON, or `[{id, value}]` when the shop has several languages. */
const qloText = z
  .union([z.string(), z.array(z.object({ value: z.string() }))])
  .transform((v) => (typeof v === 'string' ? v : (v[0]?.value ?? '')));
const qloDate = z.string().regex(/^\d{4}-\d{2}-\d{2}/);

const ariRoom = z.object({ id_room: qloId });
/** PHP's json_encode renders a map keyed by room id as an object, and an empty one as []. */
const ariRooms = z
  .union([z.array(ariRoom), z.record(z.string(), ariRoom)])
  .transform((v) => (Array.isArray(v) ? v : Object.values(v)));
export const ariResponseSchema = z.object({
  hotel_ari: z.object({
    id_hotel: qloId,
    currency: z.string().optional(),
    room_types: z
      .array(
        z.object({
          id_room_type: qloId,
          name: qloText,
          base_price: qloNumber.optional(),
          base_price_with_tax: qloNumber.optional(),
          rooms: z.union([z.object({ available: ariRooms.optional() }), z.array(z.unknown()).max(0)]).optional(),
        }),
      )
      .optional(),
  }),
});

export const bookingDetailsSchema = z.object({
  booking: z.object({
    id: qloId,
    id_property: qloId,
    currency: z.string(),
    source: z.string().nullable().optional(),
    associations: z.object({
      customer_detail: z.object({
        id_customer: qloId.optional(),
        firstname: z.string(),
        lastname: z.string(),
        email: z.string(),
        phone: z.union([z.string(), z.number()]).transform(String).optional(),
      }),
      room_types: z
        .array(
          z.object({
            id_room_type: qloId,
            checkin_date: qloDate,
            checkout_date: qloDate,
            number_of_rooms: qloNumber.optional(),
            rooms: z.array(z.object({ id_room: qloId })).optional(),
          }),
        )
        .default([]),
    }),
  }),
});
export type BookingDetails = z.output<typeof bookingDetailsSchema>['booking'];

/** GET /api/orders?display=[…]: `{"orders": […]}`, or `[]` when nothing matched. */
export const ordersSchema = z.union([
  z
    .array(z.unknown())
    .max(0)
    .transform(() => []),
  z
    .object({
      orders: z.array(
        z.object({ id: qloId, current_state: qloId.optional(), source: z.string().nullable().optional() }),
      ),
    })
    .transform((v) => v.orders),
]);

export const qloErrorsSchema = z.object({ errors: z.array(z.object({ code: z.unknown(), message: z.string() })) });

export const numericId = /^\d+$/;
/**
 * The reference is stored in the order's `source` and searched with PrestaShop's `filter[source]=[…]`, where
 * `|`, `,`, `%`, `[` and `]` mean something; references are workflow ids, so a plain charset is no loss.
 */
export const referencePattern = /^[A-Za-z0-9._:@-]{1,200}$/;

export function qloErrorMessages(text: string): string {
  try {
    const parsed = qloErrorsSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.errors.map((e) => e.message).join('; ');
  } catch {
    // not JSON: fall through
  }
  return text ? 'unreadable error body' : 'empty body';
}
