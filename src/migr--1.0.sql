/* src/migr--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION migr" to load this file. \quit

-- migr's state.  CREATE SCHEMA fails if a schema "migr" already exists, so
-- the extension never adopts objects somebody else created.
CREATE SCHEMA migr;
COMMENT ON SCHEMA migr IS 'migr: revisions, applied set and log of schema migrations';

CREATE SEQUENCE migr.revision_seq;
CREATE SEQUENCE migr.log_seq;

CREATE TABLE migr.revision (
    id            text        PRIMARY KEY,
    seq           bigint      NOT NULL UNIQUE,
    down_revision text[]      NOT NULL DEFAULT '{}',
    depends_on    text[]      NOT NULL DEFAULT '{}',
    branch_labels text[]      NOT NULL DEFAULT '{}',
    message       text        NOT NULL DEFAULT '',
    kind          text        NOT NULL DEFAULT 'schema'
                              CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['schema', 'data'])),
    upgrade       text        NOT NULL,
    downgrade     text,
    checksum      text        NOT NULL,
    defined_at    timestamptz NOT NULL,
    defined_by    name        NOT NULL
);
COMMENT ON TABLE migr.revision IS 'every defined revision (migr_define, migr_load, migr_merge)';

-- The graph's edges and labels, derived from migr.revision by migr_define()
-- so that finding a revision's children or a label's revision is a b-tree
-- lookup, never a scan, however long the history.
CREATE TABLE migr.edge (
    parent text   NOT NULL,     -- may name a revision not defined yet
    child  text   NOT NULL REFERENCES migr.revision (id),
    kind   "char" NOT NULL CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['p'::"char", 'd'::"char"])),
    PRIMARY KEY (parent, kind, child)
);
CREATE INDEX edge_child_idx ON migr.edge (child);
COMMENT ON TABLE migr.edge IS 'parent (p) and depends_on (d) edges of the revision graph';

CREATE TABLE migr.label (
    label    text PRIMARY KEY,
    revision text NOT NULL REFERENCES migr.revision (id)
);
CREATE INDEX label_revision_idx ON migr.label (revision);
COMMENT ON TABLE migr.label IS 'branch labels and the revision that carries each';

-- The heads, kept by migr_define(): migr_upgrade('head') finds out that
-- there is nothing to do from this tiny table and one primary-key lookup.
CREATE TABLE migr.head (
    revision text PRIMARY KEY REFERENCES migr.revision (id)
);
COMMENT ON TABLE migr.head IS 'revisions that are no other revision''s parent';

CREATE TABLE migr.applied (
    revision   text        PRIMARY KEY REFERENCES migr.revision (id),
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL,
    applied_by name        NOT NULL,
    ms         double precision
);
COMMENT ON TABLE migr.applied IS 'the applied set: revisions whose upgrade ran (ms NULL when stamped) and was not reverted';

CREATE TABLE migr.log (
    id       bigint      PRIMARY KEY,
    at       timestamptz NOT NULL,
    role     name        NOT NULL,
    action   text        NOT NULL,
    revision text,
    target   text,
    ms       double precision,
    outcome  text        NOT NULL
);
ALTER TABLE migr.log ALTER COLUMN id
    SET DEFAULT pg_catalog.nextval('migr.log_seq'::pg_catalog.regclass);
COMMENT ON TABLE migr.log IS 'every define, upgrade, downgrade and stamp, with role, time and duration';

-- One row, bumped under the migr lock by every change of the applied set:
-- a REPEATABLE READ caller whose snapshot predates another migration gets a
-- serialization failure instead of working from a stale applied set.
CREATE TABLE migr.state (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    generation bigint  NOT NULL DEFAULT 0
);
INSERT INTO migr.state DEFAULT VALUES;

-- Background jobs (statements that cannot run in a transaction block, and
-- the revisions queued behind them).  The queue is this table: a worker
-- works through it in id order; nothing about it lives only in memory.
CREATE SEQUENCE migr.job_seq;
CREATE TABLE migr.job (
    id              bigint      PRIMARY KEY,
    revision        text        NOT NULL REFERENCES migr.revision (id),
    first_statement integer     NOT NULL,   -- where the job starts in the upgrade script
    next_statement  integer     NOT NULL,   -- progress: statements before it are done
    statement       text,                   -- the statement that needed a worker, if any
    target          text        NOT NULL,   -- of the migr_upgrade() call that queued it
    role            name        NOT NULL,   -- the caller: the worker runs as this role
    login_role      name        NOT NULL,   -- the caller's session user: it logs in as this one
    settings        text[]      NOT NULL,   -- migr.* and search_path of the caller
    queued_xid      xid8        NOT NULL,   -- the transaction that queued it
    worker_pid      integer,
    state           text        NOT NULL
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'done', 'failed', 'cancelled'])),
    attempts        integer     NOT NULL DEFAULT 0,
    error           text,
    sqlstate        text,
    queued_at       timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz
);
ALTER TABLE migr.job ALTER COLUMN id
    SET DEFAULT pg_catalog.nextval('migr.job_seq'::pg_catalog.regclass);
CREATE INDEX job_pending_idx ON migr.job (id)
    WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed']);
COMMENT ON TABLE migr.job IS 'statements run by background workers after the caller commits, and the revisions queued behind them';

-- pg_dump keeps the history (migr.state is recreated by CREATE EXTENSION)
SELECT pg_catalog.pg_extension_config_dump('migr.revision', '');
SELECT pg_catalog.pg_extension_config_dump('migr.edge', '');
SELECT pg_catalog.pg_extension_config_dump('migr.label', '');
SELECT pg_catalog.pg_extension_config_dump('migr.head', '');
SELECT pg_catalog.pg_extension_config_dump('migr.applied', '');
SELECT pg_catalog.pg_extension_config_dump('migr.log', '');
SELECT pg_catalog.pg_extension_config_dump('migr.revision_seq', '');
SELECT pg_catalog.pg_extension_config_dump('migr.log_seq', '');
SELECT pg_catalog.pg_extension_config_dump('migr.job', '');
SELECT pg_catalog.pg_extension_config_dump('migr.job_seq', '');

-- Anyone may look; only migr's functions, running as the extension owner,
-- write.
REVOKE ALL ON ALL TABLES IN SCHEMA migr FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migr FROM PUBLIC;
GRANT USAGE ON SCHEMA migr TO PUBLIC;
GRANT SELECT ON migr.revision, migr.edge, migr.label, migr.head, migr.applied,
    migr.log, migr.job TO PUBLIC;

-- Defining revisions

CREATE FUNCTION @extschema@.migr_define(
    id text,
    down_revision text[],
    upgrade text,
    downgrade text DEFAULT NULL,
    message text DEFAULT '',
    branch_labels text[] DEFAULT '{}',
    depends_on text[] DEFAULT '{}',
    kind text DEFAULT 'schema')
RETURNS text
AS 'MODULE_PATHNAME', 'migr_define'
LANGUAGE C VOLATILE;
-- changes state: granted by the owner to the roles that migrate
REVOKE ALL ON FUNCTION @extschema@.migr_define(text, text[], text, text, text, text[], text[], text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_define(text, text[], text, text, text, text[], text[], text) IS
    'define a revision (NULL id: generated); returns its id';

CREATE FUNCTION @extschema@.migr_load(script text)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_load'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_load(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_load(text) IS
    'define a revision from the text of a revision file; returns its id';

CREATE FUNCTION @extschema@.migr_merge(
    revisions text[] DEFAULT NULL,
    message text DEFAULT 'merge heads',
    id text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_merge'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_merge(text[], text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_merge(text[], text, text) IS
    'define an empty revision whose parents are the given revisions (NULL: every head)';

-- Moving

CREATE FUNCTION @extschema@.migr_upgrade(
    target text DEFAULT 'head',
    OUT revision text, OUT message text, OUT ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_upgrade'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_upgrade(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_upgrade(text) IS
    'apply every revision the target needs; one row per revision applied';

CREATE FUNCTION @extschema@.migr_downgrade(
    target text,
    OUT revision text, OUT message text, OUT ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_downgrade'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_downgrade(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_downgrade(text) IS
    'revert every applied revision above the target; one row per revision reverted';

CREATE FUNCTION @extschema@.migr_stamp(
    target text,
    OUT revision text, OUT action text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_stamp'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_stamp(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_stamp(text) IS
    'make the applied set exactly the target and its ancestors, running no script';

CREATE FUNCTION @extschema@.migr_plan(
    target text,
    direction text DEFAULT 'upgrade',
    OUT step integer, OUT revision text, OUT statement text,
    OUT deferred boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_plan(text, text) IS
    'what an upgrade or downgrade to the target would run, statement by statement';

-- Background work

CREATE FUNCTION @extschema@.migr_jobs(
    OUT id bigint, OUT revision text, OUT statement text, OUT state text,
    OUT attempts integer, OUT error text, OUT queued_at timestamptz,
    OUT finished_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_jobs'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_jobs() IS
    'background jobs: statements run after commit by a worker, and the revisions queued behind them';

CREATE FUNCTION @extschema@.migr_wait(timeout interval DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_wait'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_wait(interval) IS
    'wait until no job is queued or running (true) or the timeout passes (false); raises the error of a failed job';

CREATE FUNCTION @extschema@.migr_retry(job bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'migr_retry'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_retry(bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_retry(bigint) IS
    'queue a failed job again and start a worker for it';

CREATE FUNCTION @extschema@.migr_cancel(job bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'migr_cancel'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_cancel(bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_cancel(bigint) IS
    'cancel a job and every job queued after it (a running build is interrupted)';

-- Looking

CREATE FUNCTION @extschema@.migr_heads(
    OUT revision text, OUT branch_labels text[], OUT message text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_heads'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_heads() IS
    'revisions that are no other revision''s parent';

CREATE FUNCTION @extschema@.migr_current(
    OUT revision text, OUT message text, OUT applied_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_current'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_current() IS
    'applied revisions none of whose children are applied';

CREATE FUNCTION @extschema@.migr_branches(
    OUT revision text, OUT children text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_branches'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_branches() IS
    'branch points: revisions with more than one child';

CREATE FUNCTION @extschema@.migr_history(
    range text DEFAULT NULL,
    OUT revision text, OUT down_revision text[], OUT message text,
    OUT applied boolean, OUT applied_at timestamptz, OUT is_head boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_history'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_history(text) IS
    'revisions in topological order, roots first; range is ''from:to''';

CREATE FUNCTION @extschema@.migr_show(
    target text,
    OUT revision text, OUT down_revision text[], OUT depends_on text[],
    OUT branch_labels text[], OUT message text, OUT kind text,
    OUT upgrade text, OUT downgrade text, OUT checksum text,
    OUT applied boolean, OUT applied_at timestamptz, OUT is_head boolean,
    OUT children text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_show'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_show(text) IS
    'a revision whole, scripts included';

CREATE FUNCTION @extschema@.migr_check(
    OUT revision text, OUT severity text, OUT code text, OUT message text,
    OUT hint text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_check'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_check() IS
    'everything wrong or risky in the revision graph; no rows when all is clear';

-- ------------------------------------------------------------------------
-- Lint and archives (lint.c, archive.c)
-- ------------------------------------------------------------------------

-- One row per migr_archive_table() call.  Names, not OIDs: pg_dump and
-- pg_restore give tables new OIDs.
CREATE SEQUENCE migr.archive_seq;
CREATE TABLE migr.archive (
    id             bigint      PRIMARY KEY,
    source_schema  name        NOT NULL,
    source_table   name        NOT NULL,
    archive_schema name        NOT NULL,
    archive_table  name        NOT NULL,
    rows           bigint      NOT NULL,
    revision       text,                    -- whose upgrade script called it; NULL outside a migration
    archived_by    name        NOT NULL,
    archived_at    timestamptz NOT NULL
);
ALTER TABLE migr.archive ALTER COLUMN id
    SET DEFAULT pg_catalog.nextval('migr.archive_seq'::pg_catalog.regclass);
CREATE INDEX archive_source_idx ON migr.archive (source_schema, source_table);
COMMENT ON TABLE migr.archive IS 'tables copied by migr_archive_table() before a destructive change';
SELECT pg_catalog.pg_extension_config_dump('migr.archive', '');
SELECT pg_catalog.pg_extension_config_dump('migr.archive_seq', '');
REVOKE ALL ON migr.archive FROM PUBLIC;
REVOKE ALL ON SEQUENCE migr.archive_seq FROM PUBLIC;
GRANT SELECT ON migr.archive TO PUBLIC;

CREATE FUNCTION @extschema@.migr_lint(
    script text,
    kind text DEFAULT 'schema',
    OUT statement integer, OUT line integer, OUT severity text,
    OUT code text, OUT message text, OUT hint text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_lint'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_lint(text, text) IS
    'the lint findings of a script, without defining anything';

CREATE FUNCTION @extschema@.migr_archive_table(
    tbl regclass,
    archive_name text DEFAULT NULL)
RETURNS regclass
AS 'MODULE_PATHNAME', 'migr_archive_table'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_archive_table(regclass, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_archive_table(regclass, text) IS
    'copy a table (structure, rows, owner, grants, row-level security) into a new archive table before a destructive change';

CREATE FUNCTION @extschema@.migr_archives(
    OUT id bigint, OUT source_schema name, OUT source_table name,
    OUT archive_schema name, OUT archive_table name, OUT rows bigint,
    OUT revision text, OUT archived_by name, OUT archived_at timestamptz,
    OUT archive_exists boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_archives'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_archives() IS
    'tables archived by migr_archive_table(), and whether each archive still exists';

-- Default privileges of the role running CREATE EXTENSION may have granted
-- rights on migr's tables to other roles: take them all back, so that only
-- the owner writes and PUBLIC reads what is granted above.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::pg_catalog.regclass AS rel, a.grantee::pg_catalog.regrole AS role
          FROM pg_catalog.pg_class c,
               LATERAL pg_catalog.aclexplode(c.relacl) a
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'migr'::pg_catalog.regnamespace
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
         GROUP BY 1, 2
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', r.rel, r.role);
    END LOOP;
END
$$;
