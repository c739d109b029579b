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


-- ========================================================================
-- issue 12: autogenerate
-- ========================================================================


-- ========================================================================
-- issue 13: the command (undefine, deploy grants)
-- ========================================================================

-- Removing a revision that was never applied (undefine.c): what "migr rm"
-- calls.  Applied, partially applied and needed revisions are refused.
CREATE FUNCTION @extschema@.migr_undefine(id text)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_undefine'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_undefine(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_undefine(text) IS
    'remove a revision that is not applied and that no other revision needs; returns its id';

-- Everything a role that deploys (pushes revision files, moves the
-- database, handles background jobs) needs from migr, in one call by the
-- extension's owner: EXECUTE on the functions that change state.  What its
-- scripts need (CREATE on a schema, ownership of the tables they alter) is
-- granted as for any role.
CREATE FUNCTION @extschema@.migr_grant_deploy(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fn text;
BEGIN
    FOREACH fn IN ARRAY ARRAY[
        '@extschema@.migr_define(text, text[], text, text, text, text[], text[], text)',
        '@extschema@.migr_load(text)',
        '@extschema@.migr_merge(text[], text, text)',
        '@extschema@.migr_undefine(text)',
        '@extschema@.migr_upgrade(text)',
        '@extschema@.migr_downgrade(text)',
        '@extschema@.migr_stamp(text)',
        '@extschema@.migr_retry(bigint)',
        '@extschema@.migr_cancel(bigint)',
        '@extschema@.migr_archive_table(regclass, text)']
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s',
                                  fn::pg_catalog.regprocedure, role);
    END LOOP;
END
$$;
-- changes state (privileges)
REVOKE ALL ON FUNCTION @extschema@.migr_grant_deploy(regrole) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_grant_deploy(regrole) IS
    'grant a role EXECUTE on every migr function a deploy needs (push, upgrade, downgrade, stamp, jobs)';


-- ========================================================================
-- issue 14: tenants and fleets
-- ========================================================================

