/**
 * The PMS contract: what the booking saga and the conversation ask a hotel's PMS, and what they get back. Pure
 * types: the PMS activities (activities/pms.ts) implement it, a PMS client (clients/qloapps/) speaks it to one hotel.
 */

/** Dates are YYYY-MM-DD; the stay is the nights [checkIn, checkOut). */
export interface AvailabilityQuery {
  tenantId: string;
  checkIn: string;
  checkOut: string;
  adults: number;
  children?: number;
}

export interface RoomOffer {
  roomTypeId: string;
  roomTypeName: string;
  /** Rooms of this type free for every night of the stay that take the party (adults and children). */
  roomIds: string[];
  /**
   * Per night (the stay's average), tax included when the PMS says so, with the fees a booking carries: what the
   * guest is quoted.
   */
  pricePerNight?: number;
  currency?: string;
}

export interface AvailabilityResult {
  rooms: RoomOffer[];
  /** True when the PMS could not be asked and this is a cached answer: tell the guest it is not final. */
  provisional: boolean;
  /** When the PMS gave this answer (ISO). */
  checkedAt: string;
}

export interface BookingRequest {
  tenantId: string;
  /** The booking workflow id: unique, and how a retried create finds the booking it already made. */
  reference: string;
  roomTypeId: string;
  roomId: string;
  checkIn: string;
  checkOut: string;
  adults: number;
  children?: number;
  guestName?: string;
  /**
   * The guest's WhatsApp id, which is their phone number: the PMS gets it as the customer's phone (QloApps requires
   * one), and its keyed reference (`GUEST_REF_KEY`) in the placeholder e-mail.
   */
  guestWaId?: string;
}

export interface BookingRecord {
  bookingId: string;
  reference: string;
  status: 'confirmed' | 'cancelled';
  roomTypeId: string;
  roomId: string;
  checkIn: string;
  checkOut: string;
  /** What the booking costs at the PMS (tax and fees included), as the PMS recorded it; absent if it did not say. */
  total?: number;
  currency?: string;
}

/** A room gone at the PMS is an outcome, not an error. */
export type CreateBookingResult = { kind: 'booked'; booking: BookingRecord } | { kind: 'unavailable' };

/** One booking of a tenant, by the PMS's id. */
export interface BookingLookup {
  tenantId: string;
  bookingId: string;
}

/** The bookings of a tenant made with one reference (the booking workflow id). */
export interface ReferenceLookup {
  tenantId: string;
  reference: string;
}

/** What the compensation cancelled: the PMS ids of every live booking that carried the reference. */
export interface CancelledBookings {
  cancelled: string[];
}

/**
 * What a {@link PmsClient} books: the request, the guest named by a keyed reference (the placeholder e-mail) and
 * their WhatsApp id (their phone number) when known.
 */
export type PmsBookingRequest = Omit<BookingRequest, 'tenantId'> & { guestRef: string };

/** One hotel's PMS. Errors are `ApplicationFailure`s whose type says whether retrying can help. */
export interface PmsClient {
  checkAvailability(q: Omit<AvailabilityQuery, 'tenantId'>): Promise<AvailabilityResult>;
  /** Books without looking for an earlier booking of the same reference; the activity does that first. */
  createBooking(r: PmsBookingRequest): Promise<CreateBookingResult>;
  getBooking(bookingId: string): Promise<BookingRecord | null>;
  findBookingByReference(reference: string): Promise<BookingRecord | null>;
  /** Every booking made with this reference, live or cancelled, oldest first (normally one; see the saga). */
  findBookingsByReference(reference: string): Promise<BookingRecord[]>;
  /** Idempotent: a booking already cancelled is returned as it is. */
  cancelBooking(bookingId: string): Promise<BookingRecord>;
}
