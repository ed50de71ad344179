-- Runs once, when the postgresql container of docker-compose.yml starts on an empty data volume
-- (the postgres image runs /docker-entrypoint-initdb.d/*.sql as the superuser, with ON_ERROR_STOP).
--
-- One PostgreSQL serves two owners:
--   * role `temporal` owns `temporal` and `temporal_visibility`, the Temporal server's own databases
--     (their schema is created and upgraded by the `temporal-schema` service, never by the app);
--   * role `ecoloop` owns `ecoloop`, the application's read models (schema by `npm run migrate`).
--
-- Passwords come from the container's environment (psql 15+ `\getenv`), so none is written here.
-- docker-compose.yml refuses to start without them; an unset one would also fail this script.

\getenv temporal_password TEMPORAL_DB_PASSWORD
\getenv ecoloop_password ECOLOOP_DB_PASSWORD

CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;

CREATE ROLE ecoloop LOGIN PASSWORD :'ecoloop_password';
CREATE DATABASE ecoloop OWNER ecoloop;

-- Nobody but the owner (and the superuser) connects to a database.
REVOKE CONNECT, TEMPORARY ON DATABASE temporal, temporal_visibility, ecoloop FROM PUBLIC;
