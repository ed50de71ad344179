-- The reporter's identity (name, phone, email, address) is encrypted at rest: AES-256-GCM under
-- the key ring of runtime/encryption.ts, bound to the case id, sealed by the projection
-- (activities/projection.ts) and opened only by privileged reads (db/cases.ts getReporter).
-- `reporter_enc` is iv || ciphertext || tag; `key_id` names the key, so keys rotate row by row.
--
-- Rows written before this migration keep their clear jsonb in `legacy_reporter` until the worker
-- seals them at start-up (db/reporters.ts resealReporters), which also moves rows sealed under a
-- retired key to the current one. A row holds exactly one of the two forms.

ALTER TABLE case_reporters RENAME COLUMN reporter TO legacy_reporter;
ALTER TABLE case_reporters
  ALTER COLUMN legacy_reporter DROP NOT NULL,
  ADD COLUMN key_id text,
  ADD COLUMN reporter_enc bytea,
  ADD CONSTRAINT case_reporters_one_form CHECK (
    (reporter_enc IS NOT NULL AND key_id IS NOT NULL AND legacy_reporter IS NULL)
    OR (reporter_enc IS NULL AND key_id IS NULL AND legacy_reporter IS NOT NULL)
  );
