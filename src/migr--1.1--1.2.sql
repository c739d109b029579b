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


-- ========================================================================
-- issue 14: tenants and fleets
-- ========================================================================

