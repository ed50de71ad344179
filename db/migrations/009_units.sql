-- The unit directory: the handling units (承办单位) that cases are accepted or transferred to, and
-- every change made to them, as audited events. Managed through the API by the admin role
-- (api/routes/units.ts); the development stack and the demo seed it (domain/unit-seed.ts).

CREATE TABLE units (
  unit_id         text PRIMARY KEY,
  name            text NOT NULL,
  -- The division it handles cases in (a code of the division directory, domain/divisions.ts): a
  -- county bureau its county, a city bureau its city, a provincial department its province.
  division_code   text NOT NULL,
  -- The unit it reports to (a county bureau's city bureau), if any.
  parent_unit_id  text REFERENCES units (unit_id),
  active          boolean NOT NULL DEFAULT true,
  -- How it is told of its cases: 'platform' (its queue in this system), 'email', 'sms', 'webhook',
  -- and the address where the channel needs one.
  notify_channel  text NOT NULL DEFAULT 'platform',
  notify_address  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX units_division_idx ON units (division_code);
CREATE INDEX units_parent_idx ON units (parent_unit_id) WHERE parent_unit_id IS NOT NULL;

-- Every change to a unit: who made it, when, and what changed (the unit after the change).
CREATE TABLE unit_events (
  seq        bigserial PRIMARY KEY,
  unit_id    text NOT NULL REFERENCES units (unit_id),
  type       text NOT NULL,
  actor_id   text NOT NULL,
  actor_role text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  data       jsonb NOT NULL
);
CREATE INDEX unit_events_unit_idx ON unit_events (unit_id, seq);
