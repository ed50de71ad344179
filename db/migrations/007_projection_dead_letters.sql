-- Events the read model refused with an error retrying cannot fix (a value PostgreSQL cannot store,
-- a violated constraint): kept here with the error, so that the case goes on without them and
-- `npm run projection:replay -- <caseId>` projects them once the cause is fixed. The events and the
-- view are JSON kept as text, escapes and all: jsonb and text both refuse a NUL character.
CREATE TABLE projection_dead_letters (
  case_id      text NOT NULL,
  from_seq     integer NOT NULL,
  to_seq       integer NOT NULL,
  events       text NOT NULL,
  view         text NOT NULL,
  sql_state    text,
  error        text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Set when a later projection of the case succeeded: the read model has these events now.
  replayed_at  timestamptz,
  PRIMARY KEY (case_id, from_seq, to_seq)
);
CREATE INDEX projection_dead_letters_open_idx ON projection_dead_letters (case_id) WHERE replayed_at IS NULL;
