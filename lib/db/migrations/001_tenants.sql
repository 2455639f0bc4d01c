-- Tenants (hotels), the WhatsApp numbers and guest identifiers they own, admin tokens and the audit log.

CREATE TABLE tenants (
  id                  text PRIMARY KEY CHECK (id ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  locale              text NOT NULL DEFAULT 'es' CHECK (locale IN ('es', 'en')),
  timezone            text NOT NULL DEFAULT 'Europe/Madrid',
  -- {"mon": [["08:00", "22:00"]], ...}: opening intervals per weekday in the tenant's timezone.
  business_hours      jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Address, check-in time and the like, shown to guests who ask.
  info                jsonb NOT NULL DEFAULT '{}'::jsonb,
  pms_base_url        text,
  -- A reference to the PMS credentials (e.g. env:HOTEL_X_PMS_KEY), never the secret itself.
  pms_credentials_ref text,
  -- A reference to the WhatsApp access token for this tenant's numbers (e.g. env:HOTEL_X_WA_TOKEN).
  whatsapp_token_ref  text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_phone_numbers (
  phone_number_id text PRIMARY KEY CHECK (phone_number_id ~ '^[0-9]{5,30}$'),
  tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_phone_numbers_tenant ON tenant_phone_numbers (tenant_id);

-- Normalized guest identifiers: E.164 phone numbers (+34600123456) or lowercased e-mail addresses.
CREATE TABLE tenant_user_identifiers (
  identifier text PRIMARY KEY CHECK (identifier ~ '^\+[1-9][0-9]{6,14}$' OR identifier ~ '^[^@\sA-Z]+@[^@\sA-Z]+$'),
  tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenant_user_identifiers_tenant ON tenant_user_identifiers (tenant_id);

CREATE TABLE admin_tokens (
  id           text PRIMARY KEY,
  name         text NOT NULL,
  -- scrypt$N$r$p$<salt base64>$<hash base64>
  secret_hash  text NOT NULL,
  scope        text NOT NULL CHECK (scope IN ('admin', 'monitoring')),
  tenant_id    text REFERENCES tenants (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  -- Who did it: an admin token id, 'worker', 'cli'.
  actor      text NOT NULL,
  action     text NOT NULL,
  -- The tenant the row concerns, when there is one.
  tenant_id  text,
  details    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);
CREATE INDEX audit_log_action_at ON audit_log (action, at);
