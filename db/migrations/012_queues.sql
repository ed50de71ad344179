-- Queues, declined assignments and the person behind a unit's decision.

-- The unit a person acted for (domain/case.ts Actor.unitId): a unit's decisions name the person
-- (the token's subject) as actor_id and the unit here. NULL for everyone else and for older events.
ALTER TABLE case_events ADD COLUMN actor_unit_id text;

-- A declined acceptance (assignment_declined: the case was wrongly assigned) is no acceptance
-- (domain/rates.ts): the acceptance fact of the last `accepted` before it is dropped. Fires after
-- case_events_rate_facts (triggers of one event fire in name order), so a batch holding both the
-- acceptance and its decline ends without the fact.
CREATE FUNCTION case_events_drop_declined_acceptance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM case_rate_facts f
   USING new_events n
   WHERE n.type = 'assignment_declined' AND f.case_id = n.case_id AND f.kind = 'acceptance'
     AND f.seq = (SELECT max(a.seq) FROM case_events a WHERE a.case_id = n.case_id AND a.seq < n.seq AND a.type = 'accepted');
  RETURN NULL;
END $$;

CREATE TRIGGER case_events_rate_facts_declined AFTER INSERT ON case_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION case_events_drop_declined_acceptance();

-- A unit's inbox: its cases by deadline.
CREATE INDEX cases_unit_deadline_idx ON cases (unit_id, deadline_at) WHERE unit_id IS NOT NULL;
