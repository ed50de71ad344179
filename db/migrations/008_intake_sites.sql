-- The registration side of duplicate detection (docs/lifecycle.md, "Duplicates under load"): every
-- intake decision, written in the transaction that made it, under the advisory locks of the site's
-- grid cells (domain/intake-sites.ts). The read model (cases) lags behind the workflows; this table
-- does not, so N complaints about one site registered back to back or at once find one primary.

CREATE TABLE intake_sites (
  case_id          text PRIMARY KEY,
  category         text NOT NULL,
  site_id          text,
  lat              double precision,
  lon              double precision,
  received_at      timestamptz NOT NULL,
  -- What intake decided: NULL, handled on its own (a primary); 'duplicate' of, or 'recurrence' at
  -- the site of, related_case_id. A retried decision reads its row back instead of deciding again.
  related_kind     text CHECK (related_kind IN ('duplicate', 'recurrence')),
  related_case_id  text,
  decided_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX intake_sites_site_idx ON intake_sites (category, site_id, received_at) WHERE related_case_id IS NULL AND site_id IS NOT NULL;
CREATE INDEX intake_sites_lat_idx ON intake_sites (category, lat, received_at) WHERE related_case_id IS NULL AND lat IS NOT NULL;
