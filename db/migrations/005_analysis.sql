-- Analysis and early warning: the facts behind the four rates, stored reports, early warnings.
-- The definitions of the rates are in domain/rates.ts; rate_facts_of below derives exactly them.

-- Reports and the case list scan complaints by receipt time. The included columns make the
-- report's counts and hotspot grid index-only scans; (received_at, case_id) is also the order of
-- the case list, newest first.
CREATE INDEX cases_received_idx ON cases (received_at, case_id) INCLUDE (category, division_code, channel, lat, lon, merged_into);

-- ---- The facts of the rates ----

-- One row per fact (see domain/rates.ts): the event that establishes it, the time it counts in,
-- whether it passed, and the case's category, division and the unit that had it at that moment.
CREATE TABLE case_rate_facts (
  case_id        text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('acceptance', 'completion', 'satisfaction')),
  seq            integer NOT NULL,
  at             timestamptz NOT NULL,
  due_at         timestamptz,
  passed         boolean NOT NULL,
  category       text NOT NULL,
  division_code  text NOT NULL,
  unit_id        text,
  PRIMARY KEY (case_id, kind, seq)
);
CREATE INDEX case_rate_facts_at_idx ON case_rate_facts (at) INCLUDE (kind, passed, category, division_code, unit_id);

-- The facts that one event establishes, given the case's earlier events (domain/rates.ts):
--   accepted           -> acceptance: on time when at <= the deadline of the last registered_for_acceptance before it;
--   result_approved    -> completion, the first approval only: at = the approved reply (the last
--                         result_submitted before it), on time when that reply came by the deadline in
--                         force when it was submitted (the last earlier event that carries a deadline);
--   callback_answered  -> satisfaction, when the complainant answered: passed when (basically) satisfied.
-- Every lookup walks the case's own events through the primary key (case_id, seq), a handful of
-- rows; `type || ''` keeps the planner off the (type, at) index, which stale statistics during a
-- bulk load can make look selective and which would cost a scan of all events of that type.
CREATE FUNCTION rate_facts_of(e_case_id text, e_seq integer, e_type text, e_at timestamptz, e_data jsonb)
RETURNS SETOF case_rate_facts LANGUAGE sql STABLE AS $$
  SELECT e_case_id,
         CASE e_type WHEN 'accepted' THEN 'acceptance' WHEN 'result_approved' THEN 'completion' ELSE 'satisfaction' END,
         e_seq,
         CASE WHEN e_type = 'result_approved' THEN reply.at ELSE e_at END,
         due.deadline_at,
         CASE e_type
           WHEN 'accepted' THEN coalesce(e_at <= due.deadline_at, false)
           WHEN 'result_approved' THEN coalesce(reply.at <= due.deadline_at, false)
           ELSE e_data->>'outcome' IN ('satisfied', 'basically_satisfied')
         END,
         c.category, c.division_code, unit.unit_id
    FROM cases c
    LEFT JOIN LATERAL (
      SELECT r.seq, r.at FROM case_events r
       WHERE e_type = 'result_approved' AND r.case_id = e_case_id AND r.seq < e_seq AND r.type || '' = 'result_submitted'
       ORDER BY r.seq DESC LIMIT 1
    ) reply ON true
    LEFT JOIN LATERAL (
      SELECT d.deadline_at FROM case_events d
       WHERE d.case_id = e_case_id
         AND ((e_type = 'accepted' AND d.seq < e_seq AND d.type || '' = 'registered_for_acceptance')
           OR (e_type = 'result_approved' AND d.seq < reply.seq AND d.deadline_at IS NOT NULL))
       ORDER BY d.seq DESC LIMIT 1
    ) due ON true
    LEFT JOIN LATERAL (
      SELECT coalesce(u.data->>'to', u.data->>'unitId') AS unit_id FROM case_events u
       WHERE u.case_id = e_case_id AND u.seq <= e_seq AND u.type || '' IN ('accepted', 'transferred')
       ORDER BY u.seq DESC LIMIT 1
    ) unit ON true
   WHERE c.case_id = e_case_id
     AND (e_type = 'accepted'
       OR (e_type = 'callback_answered' AND e_data->>'outcome' IN ('satisfied', 'basically_satisfied', 'dissatisfied'))
       OR (e_type = 'result_approved' AND reply.seq IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM case_events p WHERE p.case_id = e_case_id AND p.seq < e_seq AND p.type || '' = 'result_approved')))
$$;

-- Every writer of case_events (the projection, the benchmark's bulk load, tests) gets the facts
-- in the same transaction. The projection writes the case row before its events, and a case's
-- events in order, so the earlier events a fact needs are there. Idempotent: keyed by the event.
CREATE FUNCTION case_events_derive_rate_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO case_rate_facts
  SELECT f.* FROM new_events n, LATERAL rate_facts_of(n.case_id, n.seq, n.type, n.at, n.data) f
   WHERE n.type IN ('accepted', 'result_approved', 'callback_answered')
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;

CREATE TRIGGER case_events_rate_facts AFTER INSERT ON case_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION case_events_derive_rate_facts();

-- The facts of the cases projected before this migration.
INSERT INTO case_rate_facts
SELECT f.* FROM case_events n, LATERAL rate_facts_of(n.case_id, n.seq, n.type, n.at, n.data) f
 WHERE n.type IN ('accepted', 'result_approved', 'callback_answered')
ON CONFLICT DO NOTHING;

-- Handling compliance counts the daily desk checks (db/migrations/003_supervision.sql): every
-- reviewed item is one spot check, compliant or not; an item nobody reviewed in time ('missed')
-- was not checked. Another source of spot checks can be added to this view.
CREATE VIEW spot_check_results AS
  SELECT i.case_id, i.reviewed_at AS checked_at, i.result = 'compliant' AS compliant, i.unit_id, 'desk_check'::text AS source
    FROM desk_check_items i
   WHERE i.result IN ('compliant', 'non_compliant') AND i.reviewed_at IS NOT NULL;

CREATE INDEX desk_check_items_reviewed_at_idx ON desk_check_items (reviewed_at) INCLUDE (case_id, result, unit_id)
  WHERE result IN ('compliant', 'non_compliant');

-- ---- Reports ----

-- One row per period and kind ('monthly-2026-03', 'quarterly-2026-Q1'); regenerating replaces it.
CREATE TABLE reports (
  report_id     text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('monthly', 'quarterly')),
  period_label  text NOT NULL,
  period_from   timestamptz NOT NULL,
  period_to     timestamptz NOT NULL,
  generated_at  timestamptz NOT NULL,
  body          jsonb NOT NULL
);
CREATE INDEX reports_kind_period_idx ON reports (kind, period_from DESC);

-- ---- Early warnings ----

-- One row per warning episode of a watcher (workflows/warning-watcher.ts), keyed by the complaint
-- that crossed the threshold, so a retried activity writes it once. Complaints that join the
-- episode later are added to case_ids; nothing raises a second warning until the window empties.
CREATE TABLE warnings (
  warning_id      text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('many_people', 'repeated')),
  category        text NOT NULL,
  area_kind       text NOT NULL CHECK (area_kind IN ('cell', 'site')),
  area_key        text NOT NULL,
  area_label      text NOT NULL,
  lat             double precision,
  lon             double precision,
  division_codes  text[] NOT NULL,
  threshold       integer NOT NULL,
  rule            jsonb NOT NULL,
  -- Highest count compared with the threshold (distinct complainants or complaints) in the episode.
  peak            integer NOT NULL,
  case_ids        text[] NOT NULL,
  first_case_at   timestamptz NOT NULL,
  last_case_at    timestamptz NOT NULL,
  raised_at       timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  watcher_id      text NOT NULL,
  campaign_id     text
);
CREATE INDEX warnings_raised_at_idx ON warnings (raised_at DESC, warning_id DESC);
CREATE INDEX warnings_divisions_idx ON warnings USING gin (division_codes);
