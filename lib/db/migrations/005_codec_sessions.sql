-- Logins to the payload codec endpoint (api/codec/): the Temporal Web UI decodes payloads with the session cookie.
-- Only a hash of the session id is stored; the id itself lives in the operator's HttpOnly cookie. A session ends
-- when it expires, at logout, or when its token is revoked (checked on every use) or deleted (cascade).
CREATE TABLE codec_sessions (
  id_hash    text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
  token_id   text NOT NULL REFERENCES admin_tokens (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX codec_sessions_expires_at ON codec_sessions (expires_at);
