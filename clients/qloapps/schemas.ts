import { z } from 'zod';

/**
 * The QloApps webservice on the wire (QloApps 1.6.1): the ids and states it uses and the shapes of its JSON answers
 * (`hotel_ari`, `orders`, `room_bookings`, `customers`, `configurations`, `room_types`, errors), validated with zod so
 * an answer that does not match is caught where it arrives.
 */

/** `booking_status` values of the bookings resource (WebserviceSpecificManagementBookings::API_BOOKING_STATUS_*). */
export const bookingStatus = { new: 1, cancelled: 3 } as const;
/** `payment_status`: API_BOOKING_PAYMENT_STATUS_AWATING (sic). */
export const paymentAwaiting = 3;
/**
 * The configuration values naming the order states in which QloApps frees a booking's rooms (cancelled, refunded,
 * payment error; 4, 5 and 6 on a default install, but a shop may renumber them).
 */
export const cancelledStateKeys = ['PS_OS_CANCELED', 'PS_OS_REFUND', 'PS_OS_ERROR'] as const;
/** The configuration value naming the shop's default currency (an id; hotel_ari gives its ISO code). */
export const defaultCurrencyKey = 'PS_CURRENCY_DEFAULT';
/** Product::PRICE_ADDITION_TYPE_WITH_ROOM: a service whose price hotel_ari adds to the room's. */
export const priceAdditionWithRoom = 1;

/** QloApps renders database ids as strings or numbers depending on the resource; we carry them as strings. */
const qloId = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const qloNumber = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);
/** PrestaShop renders a flag as 0/1 or "0"/"1", and a field a product type lacks as `false`. */
const qloFlag = z.union([qloNumber, z.boolean()]).transform((v) => Number(v));
/** A localised field is a string in JSON, or `[{id, value}]` when the shop has several languages. */
const qloText = z
  .union([z.string(), z.array(z.object({ value: z.string() }))])
  .transform((v) => (typeof v === 'string' ? v : (v[0]?.value ?? '')));
const qloDate = z.string().regex(/^\d{4}-\d{2}-\d{2}/);

/** A free room of hotel_ari's JSON answer, with the most guests it takes (QloApps does not filter by them). */
const ariRoom = z.object({
  id_room: qloId,
  max_adult: qloNumber,
  max_children: qloNumber,
  max_occupancy: qloNumber,
});
export type AriRoom = z.output<typeof ariRoom>;
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
          /** Average per night for the stay, tax excluded / included, with the auto-added "with room" fees. */
          base_price: qloNumber.optional(),
          base_price_with_tax: qloNumber.optional(),
          rooms: z.union([z.object({ available: ariRooms.optional() }), z.array(z.unknown()).max(0)]).optional(),
        }),
      )
      .optional(),
  }),
});

/** The booking a POST to `bookings` answers (on a shop where that answer is not a 500): only its order id is used. */
export const createdBookingSchema = z.object({ booking: z.object({ id: qloId }) });

/** A PrestaShop resource list: `{"<nodes>": […]}`, or `[]` when nothing matched. */
function resourceList<T extends z.ZodType>(nodes: string, item: T) {
  return z.union([
    z
      .array(z.unknown())
      .max(0)
      .transform((): z.output<T>[] => []),
    z.object({ [nodes]: z.array(item) }).transform((v) => v[nodes] as z.output<T>[]),
  ]);
}

/** GET /api/orders?display=[id,current_state,source,id_customer,id_currency,total_paid_tax_incl]. */
export const ordersSchema = resourceList(
  'orders',
  z.object({
    id: qloId,
    current_state: qloId.optional(),
    source: z.string().nullable().optional(),
    id_customer: qloId.optional(),
    id_currency: qloId.optional(),
    total_paid_tax_incl: qloNumber.optional(),
  }),
);
export type OrderRow = z.output<typeof ordersSchema>[number];

/** GET /api/room_bookings (HotelBookingDetail: one row per booked room; its node name is `bookings`). */
export const roomBookingsSchema = resourceList(
  'bookings',
  z.object({
    id: qloId,
    id_order: qloId,
    id_product: qloId,
    id_room: qloId,
    id_hotel: qloId.optional(),
    date_from: qloDate,
    date_to: qloDate,
  }),
);
export type RoomBookingRow = z.output<typeof roomBookingsSchema>[number];

/** GET /api/customers?display=[id,email]. */
export const customersSchema = resourceList('customers', z.object({ id: qloId, email: z.string() }));

/** GET /api/configurations?display=[name,value]. */
export const configurationsSchema = resourceList(
  'configurations',
  z.object({ name: z.string(), value: z.union([z.string(), z.number()]).nullable().transform(String) }),
);

/**
 * GET /api/room_types/{id}: a room type, or a service product (the same Product class): its tax rules group, whether
 * it is added to every booking and how, and the services linked to a room type (with a price or tax group of
 * their own for it, or null).
 */
export const productSchema = z.object({
  room_type: z.object({
    id: qloId,
    id_tax_rules_group: qloId,
    auto_add_to_cart: qloFlag.optional(),
    price_addition_type: qloFlag.optional(),
    name: qloText.optional(),
    associations: z
      .object({
        services: z.array(z.object({ id: qloId, id_tax_rules_group: qloId.nullable().optional() })).optional(),
      })
      .optional(),
  }),
});
export type Product = z.output<typeof productSchema>['room_type'];

export const qloErrorsSchema = z.object({ errors: z.array(z.object({ code: z.unknown(), message: z.string() })) });

export const numericId = /^\d+$/;
/**
 * The reference is stored in the order's `source` and searched with PrestaShop's `filter[source]=[…]`, where
 * `|`, `,`, `%`, `[` and `]` mean something; references are workflow ids, so a plain charset is no loss.
 */
export const referencePattern = /^[A-Za-z0-9._:@-]{1,200}$/;

/** The error messages of a QloApps error body. */
export function qloErrorList(text: string): string[] | undefined {
  try {
    const parsed = qloErrorsSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.errors.map((e) => e.message);
  } catch {
    // not JSON: fall through
  }
  return undefined;
}

export function qloErrorMessages(text: string): string {
  const list = qloErrorList(text);
  if (list) return list.join('; ');
  return text ? 'unreadable error body' : 'empty body';
}

/**
 * Whether a 500's body is QloApps' error handler reporting PHP warnings or notices (WebserviceRequest.php:655-724):
 * it reports them as errors but carries on, so the request's work may well be done.
 */
export function isPhpErrorBody(text: string): boolean {
  const list = qloErrorList(text);
  return !!list?.length && list.every((m) => /^\[PHP (Warning|Notice|User Warning|User Notice) #\d+\]/.test(m));
}
