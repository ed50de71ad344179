-- cjk_grams (migration 011) again, the same grams from a quarter of the work: PostgreSQL's regular
-- expressions find the characters and the pairs in C, where 011 split the text into one row per
-- character and paired them with a window function (275 µs a case in bench:report's texts, now 110 µs).
-- The function is computed for every case written (its index is over it) and for every row a
-- lossy bitmap re-checks.
--
-- The same characters as 011: anything outside ASCII but the no-break (U+00A0) and ideographic
-- (U+3000) spaces, lowercased as ILIKE compares. Pairs: every two adjacent such characters, found
-- in two passes: those starting at the first, third, ... character of a run, then (after one such
-- character, a look-behind) those starting at the second, fourth, ...
--
-- The grams are the same for every text (test/free-text.test.ts compares the two definitions), so
-- the index built by 011 stays valid and is not rebuilt.
CREATE OR REPLACE FUNCTION cjk_grams(doc text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT m[1]), '{}'::text[])
    FROM (SELECT regexp_matches(lower(doc), '[^\u0001-\u007f\u00a0\u3000]', 'g')
          UNION ALL
          SELECT regexp_matches(lower(doc), '[^\u0001-\u007f\u00a0\u3000]{2}', 'g')
          UNION ALL
          SELECT regexp_matches(lower(doc), '(?<=[^\u0001-\u007f\u00a0\u3000])[^\u0001-\u007f\u00a0\u3000]{2}', 'g')) AS g(m)
$$;
