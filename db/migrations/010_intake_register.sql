-- Migration 010: the register of case numbers, and the address of a complaint's location.
--
-- Every case number drawn from case_number_seq gets a row here in the statement that draws it, so
-- a number that does not become a case is never lost without a trace: `outcome` is NULL while its
-- registration runs, 'case' once the case's workflow started, 'gap' (with `reason`) when the start
-- failed. Clerks read the gaps through GET /v1/case-numbers/gaps (numbers drawn before this
-- migration are not in it).
CREATE TABLE case_numbers (
  case_id     text PRIMARY KEY,
  drawn_at    timestamptz NOT NULL DEFAULT now(),
  outcome     text CHECK (outcome IN ('case', 'gap')),
  reason      text,
  decided_at  timestamptz
);
CREATE INDEX case_numbers_open_idx ON case_numbers (drawn_at) WHERE outcome IS DISTINCT FROM 'case';

-- location.address, as registered (or supplemented): shown to the handling unit, clerks and
-- supervisors (GET /v1/complaints/{caseId}), never in the public feed.
ALTER TABLE cases ADD COLUMN address text;
