-- The interaction log (lib/interactions.ts): one row per guest message and per message sent to a guest, for the
-- per-tenant analytics. Never the text: a keyed hash of it. Rows arrive through a Redis outbox, at least once;
-- record_key keeps one copy. No foreign key to tenants: a row in flight for a tenant deleted meanwhile is still stored.
CREATE TABLE interactions (
  id               bigserial PRIMARY KEY,
  record_key       text NOT NULL UNIQUE,
  tenant_id        text NOT NULL,
  -- wa:<phone_number_id>:<guest ref>: the guest's keyed pseudonym (GUEST_REF_KEY), never the number.
  conversation_ref text,
  direction        text NOT NULL CHECK (direction IN ('in', 'out')),
  -- WhatsApp's message id (wamid); null for a message Meta accepted without saying its id.
  message_id       text,
  -- Outbound: the guest message it answers.
  reply_to         text,
  type             text NOT NULL,
  -- Inbound: what the message was understood as (availability, human, ...).
  intent           text,
  -- HMAC-SHA-256 of the normalized text under a key derived from GUEST_REF_KEY (hex).
  text_hash        text,
  -- Inbound: Meta's timestamp (when the guest sent it). Outbound: when WhatsApp accepted it.
  at               timestamptz NOT NULL,
  -- Inbound: when the conversation took the message in.
  received_at      timestamptz,
  -- The moment whose day the row counts on: its own `at`, or for a reply the `at` of the message it answers.
  counts_at        timestamptz NOT NULL,
  -- Inbound: from received_at to the first reply WhatsApp accepted.
  latency_ms       integer CHECK (latency_ms >= 0),
  outcome          text NOT NULL CHECK (outcome IN ('answered', 'handed_off', 'failed', 'no_reply', 'duplicate_dropped')),
  -- Outbound, on the booking saga's last message: how the booking ended.
  booking_outcome  text CHECK (booking_outcome IN ('confirmed', 'unavailable', 'failed', 'cancelled')),
  recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interactions_tenant_day ON interactions (tenant_id, counts_at);
CREATE INDEX interactions_message ON interactions (tenant_id, message_id) WHERE direction = 'in';
CREATE INDEX interactions_reply ON interactions (tenant_id, reply_to) WHERE reply_to IS NOT NULL;
CREATE INDEX interactions_conversation ON interactions (conversation_ref);
