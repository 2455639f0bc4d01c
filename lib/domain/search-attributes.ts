import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes operators filter on in the Temporal Web UI.
 * Never a raw phone number: values are tenant ids, statuses, intents, booking references and keyed guest references.
 */
export const TenantId = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const ConversationStatus = defineSearchAttributeKey('ConversationStatus', SearchAttributeType.KEYWORD);
export const LastIntent = defineSearchAttributeKey('LastIntent', SearchAttributeType.KEYWORD);
export const BookingReference = defineSearchAttributeKey('BookingReference', SearchAttributeType.KEYWORD);
/**
 * The guest's keyed reference (HMAC under `GUEST_REF_KEY`, never the number), on conversations and the bookings they
 * start: the admin API finds one guest's conversations and bookings by it, for export and erasure.
 */
export const GuestRef = defineSearchAttributeKey('GuestRef', SearchAttributeType.KEYWORD);

/** Name → type as the Temporal CLI's `--search-attribute` flag and `operator search-attribute create` expect. */
export const searchAttributeDefinitions: Readonly<Record<string, 'Keyword' | 'Text' | 'Int' | 'Bool' | 'Datetime'>> = {
  TenantId: 'Keyword',
  ConversationStatus: 'Keyword',
  LastIntent: 'Keyword',
  BookingReference: 'Keyword',
  GuestRef: 'Keyword',
};
