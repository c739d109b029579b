/* src/migr--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migr UPDATE TO '1.1'" to load this file. \quit

-- migr 1.1.  The 1.0 install script never changes: everything 1.1 adds or
-- alters is here, and test/t/005_upgrade_chain.pl checks that 1.0 followed
-- by this script gives exactly what a fresh install of 1.1 gives, with the
-- history kept.  Each change is grouped under the issue that made it.

-- issue 8, the revision graph as Alembic's: current leaves out what another
-- applied revision needs through depends_on.
COMMENT ON FUNCTION @extschema@.migr_current() IS
    'applied revisions that no other applied revision needs, as a parent or through depends_on';

-- issue 9: worker security
-- A job runs as its role (the caller's current user), whatever the session
-- user was; login_role is kept for the record only.
COMMENT ON COLUMN migr.job.login_role IS
    'the session user of the call that queued the job (for the record: the worker runs as role)';
