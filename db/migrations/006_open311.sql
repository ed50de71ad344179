-- Open311 GeoReport v2 requests: the batch token a client gets back, resolving to the case once it
-- is registered, and what the client filed that the case projection does not keep.

CREATE TABLE open311_tokens (
  token            text PRIMARY KEY,
  -- The client (reporting app) whose api_key filed it.
  client           text NOT NULL,
  -- With an Idempotency-Key, a repeated post returns the same token; the hash tells a different
  -- request under the same key apart.
  idempotency_key  text,
  request_hash     text,
  -- Set once the complaint is registered.
  case_id          text,
  -- The issue's location as the client gave it (address_string) and its media_url.
  address          text,
  media_url        text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (client, idempotency_key)
);
CREATE UNIQUE INDEX open311_tokens_case_idx ON open311_tokens (case_id) WHERE case_id IS NOT NULL;
