-- Issue 12: what guests see. Per-tenant messaging settings (lib/domain/messaging-settings.ts): interactive lists and
-- buttons on or off, approved templates for messages outside the 24 h window, pre-arrival and post-stay offsets.
-- Validated by the admin API's zod schema; '{}' means the defaults (numbered text, no templates, default offsets).
ALTER TABLE tenants ADD COLUMN messaging jsonb NOT NULL DEFAULT '{}'::jsonb;
