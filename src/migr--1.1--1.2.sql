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

-- A no-op migr_upgrade('head') answers from memory while nothing has
-- changed migr.head or migr.applied since it last looked (src/noop.c).
-- This trigger is how a backend learns that its transaction changed them,
-- whoever wrote: migr's functions, a background worker, or a superuser by
-- hand.  ALWAYS, so that session_replication_role = replica does not
-- silence it; without it (or disabled) every no-op reads the tables.
CREATE FUNCTION migr.state_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'migr_state_changed'
    LANGUAGE C;
REVOKE ALL ON FUNCTION migr.state_changed() FROM PUBLIC;
COMMENT ON FUNCTION migr.state_changed() IS
    'internal: tells a no-op migr_upgrade(''head'') that migr.head or migr.applied changed';

CREATE TRIGGER state_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON migr.head
    FOR EACH STATEMENT EXECUTE FUNCTION migr.state_changed();
ALTER TABLE migr.head ENABLE ALWAYS TRIGGER state_changed;
CREATE TRIGGER state_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON migr.applied
    FOR EACH STATEMENT EXECUTE FUNCTION migr.state_changed();
ALTER TABLE migr.applied ENABLE ALWAYS TRIGGER state_changed;


-- ========================================================================
-- issue 11: the schema model (schema, drift, guard, verify)
-- ========================================================================


-- ========================================================================
-- issue 12: autogenerate
-- ========================================================================


-- ========================================================================
-- issue 13: the command (undefine, deploy grants)
-- ========================================================================


-- ========================================================================
-- issue 14: tenants and fleets
-- ========================================================================

