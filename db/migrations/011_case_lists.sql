-- Case lists for people (docs/api.md "Listing and finding cases"): finding a case by its caller
-- without keeping the caller in clear, free text that works for Chinese, and the sort orders.

-- ---- Finding a case by its caller: a blind index beside the sealed reporter ----
-- HMAC-SHA-256 of the normalised phone number, e-mail and name (domain/reporter-index.ts), under the
-- reporter index key named by `index_key_id` (REPORTER_INDEX_KEYS; never a key of the other rings).
-- Nothing here reads back as the reporter: a digest is found by computing it again from a caller's
-- number. Rows indexed under a retired key are indexed again by `npm run reporters:reindex` and at
-- every worker start (db/reporters.ts reindexReporters); rows without an index have index_key_id NULL.
ALTER TABLE case_reporters
  ADD COLUMN index_key_id text,
  ADD COLUMN phone_hmac bytea,
  ADD COLUMN email_hmac bytea,
  ADD COLUMN name_hmac bytea;
CREATE INDEX case_reporters_phone_hmac_idx ON case_reporters (phone_hmac) WHERE phone_hmac IS NOT NULL;
CREATE INDEX case_reporters_email_hmac_idx ON case_reporters (email_hmac) WHERE email_hmac IS NOT NULL;
CREATE INDEX case_reporters_name_hmac_idx ON case_reporters (name_hmac) WHERE name_hmac IS NOT NULL;
CREATE INDEX case_reporters_index_key_idx ON case_reporters (index_key_id);

-- ---- Free text: case number, title, description and address ----
-- The address of the place (location.address); written by the projection where it has it.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS address text;

-- Two indexes over the same text (db/cases.ts SEARCH_TEXT), because pg_trgm splits text into words
-- by the database's LC_CTYPE: under the C locale of the embedded PostgreSQL (runtime/embedded-postgres.ts)
-- it finds no trigram at all in Chinese text.
--  * pg_trgm: any three letters or digits (Latin words, numbers, case numbers); in a database with
--    a UTF-8 LC_CTYPE, Chinese as well. pg_trgm is a trusted extension: the database owner may create it.
--  * cjk_grams: every non-ASCII character and every pair of adjacent ones, whatever the locale, so
--    that one or two Chinese characters are found through the index too (a bigram index, as Chinese
--    full-text engines use). The ILIKE on the text always decides; the grams only narrow the rows.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The unigrams and bigrams of the non-ASCII characters of a text (not counting the no-break and
-- ideographic spaces), lowercased as ILIKE compares. It calls only pg_catalog functions: index
-- maintenance runs with a search_path of pg_catalog alone (PostgreSQL 17).
CREATE FUNCTION cjk_grams(doc text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}'::text[])
    FROM (SELECT c, lead(c) OVER (ORDER BY i) AS nxt FROM regexp_split_to_table(lower(doc), '') WITH ORDINALITY AS t(c, i)) s,
         LATERAL (VALUES (c), (c || nxt)) AS v(g)
   WHERE ascii(c) > 127 AND ascii(c) NOT IN (160, 12288)
     AND (g = c OR (ascii(nxt) > 127 AND ascii(nxt) NOT IN (160, 12288)))
$$;

-- What a query must find among a row's grams: its bigrams, or, for a single character, the character.
CREATE FUNCTION cjk_query_grams(q text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN cardinality(bi) > 0 THEN bi ELSE coalesce(uni, '{}'::text[]) END
    FROM (SELECT array_remove(array_agg(g) FILTER (WHERE char_length(g) = 2), NULL) AS bi,
                 array_remove(array_agg(g) FILTER (WHERE char_length(g) = 1), NULL) AS uni
            FROM unnest(cjk_grams(q)) AS g) x
$$;

CREATE INDEX cases_text_trgm_idx ON cases
  USING gin ((case_id || E'\n' || title || E'\n' || description || E'\n' || coalesce(address, '')) gin_trgm_ops);
CREATE INDEX cases_text_cjk_idx ON cases
  USING gin (cjk_grams(case_id || E'\n' || title || E'\n' || description || E'\n' || coalesce(address, '')));

-- ---- Sort orders of the case list (keyset pages; received is cases_received_idx of 005) ----
-- Due: the running deadline, cases without one last.
CREATE INDEX cases_due_idx ON cases ((coalesce(deadline_at, 'infinity'::timestamptz)), case_id);
CREATE INDEX cases_escalation_idx ON cases (escalation_level, received_at, case_id);
-- A clerk's own cases.
CREATE INDEX cases_owner_received_idx ON cases (owner_id, received_at, case_id);
