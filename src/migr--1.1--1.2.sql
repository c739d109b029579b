/* src/migr--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migr UPDATE TO '1.2'" to load this file. \quit

-- migr 1.2.  The 1.0 install script never changes, nor does 1.0--1.1 (1.1
-- has shipped): everything 1.2 adds or alters is here, and
-- test/t/005_upgrade_chain.pl checks that 1.0 and 1.1 followed by the
-- updates give exactly what a fresh install of 1.2 gives, with the history
-- kept.  Each change is grouped under the issue that made it; keep each
-- issue's statements between its marker and the next one.

-- ========================================================================
-- issue 10: house-keeping and the no-op
-- ========================================================================


-- ========================================================================
-- issue 11: the schema model (schema, drift, guard, verify)
-- ========================================================================

-- The schema left by each move: its fingerprint on the move's last log row,
-- the description itself once per fingerprint.
ALTER TABLE migr.log ADD COLUMN schema_fingerprint text;
CREATE INDEX log_schema_idx ON migr.log (id) WHERE schema_fingerprint IS NOT NULL;

CREATE TABLE migr.schema_snapshot (
    fingerprint text        PRIMARY KEY,
    description jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL
);
COMMENT ON TABLE migr.schema_snapshot IS
    'the schema descriptions recorded by moves, one per fingerprint (migr.log.schema_fingerprint)';
SELECT pg_catalog.pg_extension_config_dump('migr.schema_snapshot', '');
REVOKE ALL ON migr.schema_snapshot FROM PUBLIC;
GRANT SELECT ON migr.schema_snapshot TO PUBLIC;
-- as in the install script: default privileges of the role running the
-- script may have granted rights on the new table to others; take them back
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT a.grantee::pg_catalog.regrole AS role
          FROM pg_catalog.pg_class c,
               LATERAL pg_catalog.aclexplode(c.relacl) a
         WHERE c.oid OPERATOR(pg_catalog.=) 'migr.schema_snapshot'::pg_catalog.regclass
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON migr.schema_snapshot FROM %s', r.role);
    END LOOP;
END
$$;

CREATE FUNCTION @extschema@.migr_schema(schemas text[] DEFAULT NULL)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'migr_schema'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_schema(text[]) IS
    'canonical description of the objects in the given schemas (NULL: migr.schemas)';

CREATE FUNCTION @extschema@.migr_fingerprint(schemas text[] DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_fingerprint'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_fingerprint(text[]) IS
    'SHA-256 of migr_schema(schemas)';

CREATE FUNCTION @extschema@.migr_drift(
    reference jsonb DEFAULT NULL,
    OUT kind text, OUT object text, OUT change text, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_drift'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_drift(jsonb) IS
    'how the live schema differs from the one the last move recorded, or from reference';


-- ========================================================================
-- issue 12: autogenerate
-- ========================================================================

-- What a DDL script would produce, built in a scratch schema that is always
-- rolled back; the statements between two descriptions; a revision file.
-- None of them changes anything, so they are granted as the look-only
-- functions are (to PUBLIC); migr_schema_of runs the caller's DDL as the
-- caller, in a subtransaction it rolls back.  VOLATILE, as migr_schema():
-- each reads the live schema with a fresh snapshot.
CREATE FUNCTION @extschema@.migr_schema_of(ddl text, schema text DEFAULT 'public')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'migr_schema_of'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_schema_of(text, text) IS
    'the schema description a DDL script would produce in an empty schema (run in a scratch schema, always rolled back)';

CREATE FUNCTION @extschema@.migr_diff(
    desired jsonb, current jsonb DEFAULT NULL,
    OUT step int, OUT direction text, OUT statement text, OUT hazard text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_diff'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_diff(jsonb, jsonb) IS
    'upgrade and downgrade statements that turn current (NULL: the live schema) into desired, in dependency order';

CREATE FUNCTION @extschema@.migr_autogenerate(desired jsonb, message text DEFAULT '', id text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_autogenerate'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_autogenerate(jsonb, text, text) IS
    'a revision file on top of the current head whose scripts turn the live schema into desired (defines nothing)';

CREATE FUNCTION @extschema@.migr_baseline(message text DEFAULT 'baseline', id text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_baseline'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_baseline(text, text) IS
    'a root revision file that creates the live schema from nothing (defines nothing; migr baseline stamps it)';


-- ========================================================================
-- issue 13: the command (undefine, deploy grants)
-- ========================================================================


-- ========================================================================
-- issue 14: tenants and fleets
-- ========================================================================

