-- Hold audit events now reach Postgres through an outbox in Redis (activities/hold-audit.ts): each carries the id
-- the Lua script gave it, so a batch inserted twice (two flushers, a retry) is stored once.
ALTER TABLE room_hold_events ADD COLUMN event_id text UNIQUE;
