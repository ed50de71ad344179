-- The read model of complaint cases, projected from their workflows, and the audit trail.

CREATE SEQUENCE case_number_seq;

CREATE TABLE cases (
  case_id            text PRIMARY KEY,
  status             text NOT NULL,
  closure            text,
  category           text NOT NULL,
  urgency            text NOT NULL,
  channel            text NOT NULL,
  division_code      text NOT NULL,
  title              text NOT NULL,
  description        text NOT NULL DEFAULT '',
  lat                double precision,
  lon                double precision,
  site_id            text,
  owner_id           text NOT NULL,
  unit_id            text,
  escalation_level   integer NOT NULL DEFAULT 0,
  policy_version     text NOT NULL,
  received_at        timestamptz NOT NULL,
  accepted_at        timestamptz,
  replied_at         timestamptz,
  closed_at          timestamptz,
  deadline_kind      text,
  deadline_at        timestamptz,
  overdue            boolean NOT NULL DEFAULT false,
  returns            integer NOT NULL DEFAULT 0,
  reopen_count       integer NOT NULL DEFAULT 0,
  merged_into        text,
  anonymous          boolean NOT NULL DEFAULT true,
  reporter_consent   boolean NOT NULL DEFAULT false,
  view               jsonb NOT NULL,
  last_seq           integer NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_status_idx ON cases (status);
CREATE INDEX cases_division_received_idx ON cases (division_code, received_at);
CREATE INDEX cases_unit_status_idx ON cases (unit_id, status);
CREATE INDEX cases_category_received_idx ON cases (category, received_at);
CREATE INDEX cases_site_idx ON cases (site_id) WHERE site_id IS NOT NULL;
CREATE INDEX cases_closed_at_idx ON cases (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX cases_deadline_idx ON cases (deadline_at) WHERE deadline_at IS NOT NULL;

-- Reporter identity, kept apart from the case so that only privileged reads join it.
CREATE TABLE case_reporters (
  case_id   text PRIMARY KEY REFERENCES cases (case_id),
  reporter  jsonb NOT NULL
);

-- Every transition: actor, time, reason and the deadline in force. Keyed by (case, seq), so a
-- retried projection writes each event once.
CREATE TABLE case_events (
  case_id      text NOT NULL,
  seq          integer NOT NULL,
  type         text NOT NULL,
  at           timestamptz NOT NULL,
  actor_id     text NOT NULL,
  actor_role   text NOT NULL,
  reason       text,
  deadline_at  timestamptz,
  data         jsonb,
  PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_events_type_at_idx ON case_events (type, at);

-- Notifications to deliver, written in the same transaction as the events that cause them and
-- drained by the notification sender. The key makes a retried projection enqueue nothing twice.
CREATE TABLE outbox (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  case_id          text NOT NULL,
  event_seq        integer NOT NULL,
  event_type       text NOT NULL,
  recipient        text NOT NULL,
  payload          jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  last_error       text
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- Registration requests by Idempotency-Key: a retried request returns the same case.
CREATE TABLE intake_requests (
  idempotency_key  text PRIMARY KEY,
  request_hash     text NOT NULL,
  case_id          text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
