-- Supervision: the daily desk check and the quarterly on-site re-inspection ("double random, one
-- public"). Every draw keeps its seed, its rules and its sampling frame, so that anyone can re-run it
-- and get the same sample. Every write is keyed, so a retried activity writes nothing twice.

-- The inspector pool. division_code is a division code or a prefix of one ('37' a province,
-- '3701' a city, '370102' a county): the inspector covers every case whose division starts with it.
CREATE TABLE inspectors (
  id             text PRIMARY KEY,
  name           text,
  division_code  text NOT NULL CHECK (division_code ~ '^\d{2,6}$'),
  active         boolean NOT NULL DEFAULT true,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inspectors_active_idx ON inspectors (division_code) WHERE active;

-- One desk check per local day.
CREATE TABLE desk_checks (
  id                text PRIMARY KEY,                 -- the checked day, YYYY-MM-DD
  period_from       timestamptz NOT NULL,
  period_to         timestamptz NOT NULL,
  seed              text NOT NULL,
  share             double precision NOT NULL,
  min_per_division  integer NOT NULL,
  closures          text[] NOT NULL,
  policy_version    text NOT NULL,
  population        jsonb NOT NULL,                   -- the sampling frame: [{id, divisionCode}]
  drawn             text[] NOT NULL,                  -- the sample, sorted
  workflow_id       text NOT NULL,
  review_due_at     timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  completed_at      timestamptz
);

CREATE TABLE desk_check_items (
  desk_check_id           text NOT NULL REFERENCES desk_checks (id),
  case_id                 text NOT NULL,
  division_code           text NOT NULL,
  unit_id                 text,
  reviewer_id             text,                       -- null: any inspector or supervisor may review
  result                  text CHECK (result IN ('compliant', 'non_compliant', 'missed')),
  finding                 text,
  reviewed_by             text,
  reviewed_at             timestamptz,
  return_outcome          text,                       -- reopened | not_reopenable
  return_detail           text,
  rectification_due_at    timestamptz,
  PRIMARY KEY (desk_check_id, case_id)
);
CREATE INDEX desk_check_items_reviewer_idx ON desk_check_items (reviewer_id) WHERE result IS NULL;

-- One re-inspection draw per quarter.
CREATE TABLE re_inspections (
  id                text PRIMARY KEY,                 -- the re-inspected quarter, YYYY-Qn
  period_from       timestamptz NOT NULL,
  period_to         timestamptz NOT NULL,
  seed              text NOT NULL,
  share             double precision NOT NULL,
  min_per_division  integer NOT NULL,
  closures          text[] NOT NULL,
  policy_version    text NOT NULL,
  population        jsonb NOT NULL,
  drawn             text[] NOT NULL,
  workflow_id       text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inspections (
  id                  text PRIMARY KEY,               -- <quarter>:<caseId>
  re_inspection_id    text NOT NULL REFERENCES re_inspections (id),
  case_id             text NOT NULL,
  division_code       text NOT NULL,
  unit_id             text,
  inspector_id        text,                           -- null: no eligible inspector in the pool
  status              text NOT NULL CHECK (status IN ('unassigned', 'assigned', 'in_progress', 'overdue', 'done')),
  workflow_id         text,
  started_at          timestamptz,
  due_at              timestamptz,
  reminders           jsonb NOT NULL DEFAULT '[]',    -- [{n, at}], one per reminder sent
  overdue_at          timestamptz,
  finding             text CHECK (finding IN ('rectified', 'not_rectified', 'false_report')),
  note                text,
  found_by            text,
  found_at            timestamptz,
  reopen_outcome      text,
  reopen_detail       text,
  published           boolean NOT NULL DEFAULT false,
  published_at        timestamptz,
  UNIQUE (re_inspection_id, case_id)
);
CREATE INDEX inspections_inspector_idx ON inspections (inspector_id, status);
CREATE INDEX inspections_published_idx ON inspections (published_at) WHERE published;

-- Who answers for a case found not rectified or falsely reported. One per inspection.
CREATE TABLE accountability_records (
  id                  bigserial PRIMARY KEY,
  inspection_id       text NOT NULL UNIQUE REFERENCES inspections (id),
  case_id             text NOT NULL,
  unit_id             text,
  responsible_person  text NOT NULL,
  finding             text NOT NULL,
  note                text,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accountability_records_unit_idx ON accountability_records (unit_id);
