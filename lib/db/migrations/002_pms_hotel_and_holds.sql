-- The hotel's id inside its PMS (QloApps' id_hotel), and the audit trail of room holds.

ALTER TABLE tenants ADD COLUMN pms_hotel_id integer CHECK (pms_hotel_id > 0);

-- Every hold acquire, conflict, extend and release (holds themselves live in Redis).
CREATE TABLE room_hold_events (
  id         bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  tenant_id  text NOT NULL,
  room_id    text NOT NULL,
  -- The requested range (acquire, conflict); empty for extend and release, which act on the owner's hold.
  check_in   date,
  check_out  date,
  owner      text NOT NULL,
  event      text NOT NULL CHECK (event IN ('acquired', 'conflict', 'extended', 'extend_refused', 'released', 'release_refused')),
  details    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX room_hold_events_room ON room_hold_events (tenant_id, room_id, at);
CREATE INDEX room_hold_events_owner ON room_hold_events (owner);
