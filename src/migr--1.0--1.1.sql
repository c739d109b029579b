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

-- ------------------------------------------------------------------------
-- issue 9: partially applied revisions
-- ------------------------------------------------------------------------

-- A revision whose statements before a deferred one (CREATE INDEX
-- CONCURRENTLY and the like) have committed, and whose rest has not run:
-- neither applied nor unapplied.  It is immutable (migr_define refuses to
-- change it), and migr_upgrade resumes it at next_statement; nothing runs
-- its committed statements again.  The row goes when the revision is
-- applied (by the worker, a resumed upgrade or migr_stamp), or when
-- migr_stamp() declares it unapplied.
CREATE TABLE migr.partial (
    revision       text        PRIMARY KEY REFERENCES migr.revision (id),
    checksum       text        NOT NULL,   -- in effect when it was started
    next_statement integer     NOT NULL CHECK (next_statement OPERATOR(pg_catalog.>) 1),
    started_at     timestamptz NOT NULL,
    started_by     name        NOT NULL
);
COMMENT ON TABLE migr.partial IS 'partially applied revisions: statements before next_statement committed, the rest did not run';
SELECT pg_catalog.pg_extension_config_dump('migr.partial', '');
REVOKE ALL ON migr.partial FROM PUBLIC;
GRANT SELECT ON migr.partial TO PUBLIC;
-- as in 1.0: take back what default privileges may have granted
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT a.grantee::pg_catalog.regrole AS role
          FROM pg_catalog.pg_class c,
               LATERAL pg_catalog.aclexplode(c.relacl) a
         WHERE c.oid OPERATOR(pg_catalog.=) 'migr.partial'::pg_catalog.regclass
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON migr.partial FROM %s', r.role);
    END LOOP;
END
$$;
