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
-- The guard against manual DDL (migr.guard, src/schema/guard.c): what it
-- records of DDL let through under migr.guard = 'log' (action 'ddl').
ALTER TABLE migr.log
    ADD COLUMN command_tag text,
    ADD COLUMN objects     text[],
    ADD COLUMN statement   text;
COMMENT ON COLUMN migr.log.command_tag IS 'DDL outside a move (action ddl): its command tag';
COMMENT ON COLUMN migr.log.objects IS 'DDL outside a move (action ddl): the managed objects it created, altered or dropped';
COMMENT ON COLUMN migr.log.statement IS 'DDL outside a move (action ddl): the statement as the client sent it';

-- Event triggers call these; they are not for calling otherwise.
CREATE FUNCTION @extschema@.migr_guard_ddl_start() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'migr_guard_ddl_start' LANGUAGE C;
CREATE FUNCTION @extschema@.migr_guard_ddl_end() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'migr_guard_ddl_end' LANGUAGE C;
CREATE FUNCTION @extschema@.migr_guard_sql_drop() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'migr_guard_sql_drop' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.migr_guard_ddl_start() IS 'migr.guard: refuses CONCURRENTLY statements on managed tables before they start under block';
COMMENT ON FUNCTION @extschema@.migr_guard_ddl_end() IS 'migr.guard: records (log) or refuses (block) DDL on managed schemas outside migr''s moves';
COMMENT ON FUNCTION @extschema@.migr_guard_sql_drop() IS 'migr.guard: notes the managed objects a statement drops';
-- they write to migr.log: not for direct calls
REVOKE ALL ON FUNCTION @extschema@.migr_guard_ddl_start() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migr_guard_ddl_end() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.migr_guard_sql_drop() FROM PUBLIC;

-- ENABLE ALWAYS: session_replication_role = replica does not switch them off.
CREATE EVENT TRIGGER migr_guard_ddl_start ON ddl_command_start
    EXECUTE FUNCTION @extschema@.migr_guard_ddl_start();
CREATE EVENT TRIGGER migr_guard_ddl_end ON ddl_command_end
    EXECUTE FUNCTION @extschema@.migr_guard_ddl_end();
CREATE EVENT TRIGGER migr_guard_sql_drop ON sql_drop
    EXECUTE FUNCTION @extschema@.migr_guard_sql_drop();
ALTER EVENT TRIGGER migr_guard_ddl_start ENABLE ALWAYS;
ALTER EVENT TRIGGER migr_guard_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER migr_guard_sql_drop ENABLE ALWAYS;


-- The stairway test: runs migrations (always rolled back), so not for PUBLIC.
CREATE FUNCTION @extschema@.migr_verify(
    target text DEFAULT 'heads',
    OUT revision text, OUT step text, OUT ok boolean, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_verify'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.migr_verify(text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_verify(text) IS
    'stairway test toward target: upgrade, downgrade, upgrade again each revision, comparing schemas; always rolled back';


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
        '@extschema@.migr_archive_table(regclass, text)',
        -- the tenant forms (issue 14) and the stairway test (issue 11)
        '@extschema@.migr_upgrade(text, text)',
        '@extschema@.migr_downgrade(text, text)',
        '@extschema@.migr_stamp(text, text)',
        '@extschema@.migr_upgrade_tenants(text, text[], integer)',
        '@extschema@.migr_verify(text)']
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s',
                                  fn::pg_catalog.regprocedure, role);
    END LOOP;
END
$$;
-- changes state (privileges)
REVOKE ALL ON FUNCTION @extschema@.migr_grant_deploy(regrole) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_grant_deploy(regrole) IS
    'grant a role EXECUTE on every migr function a deploy needs (push, upgrade, downgrade, stamp, jobs, tenants, verify)';


-- ========================================================================
-- issue 14: tenants and fleets
-- ========================================================================

-- A tenant is a schema with an applied set of its own over the same
-- revision graph (README, "Tenants and fleets").  A schema becomes a tenant
-- at its first move with tenant => (migr_upgrade, migr_stamp, ...), or when
-- migr_upgrade_tenants() names it.  migr.tenant is what migr_tenants()
-- reads, through its primary key and nothing else: each move of a tenant
-- and each step of a rollout keeps its row up to date.
CREATE TABLE migr.tenant (
    tenant     text        PRIMARY KEY,     -- the schema's name
    current    text[]      NOT NULL DEFAULT '{}',
    target     text,                        -- of its latest upgrade (NULL: heads)
    state      text        NOT NULL DEFAULT 'new'
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['new', 'queued', 'running', 'done', 'failed'])),
    error      text,
    rollout    bigint,                      -- the latest rollout that named it
    worker_pid integer,                     -- the rollout worker upgrading (or that upgraded) it
    updated_at timestamptz NOT NULL
);
COMMENT ON TABLE migr.tenant IS 'tenants (schemas with an applied set of their own): current revisions, rollout state and error';
-- a rollout's workers claim their next tenant through this small index
CREATE INDEX tenant_unfinished_idx ON migr.tenant (rollout, tenant)
    WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running']);

CREATE TABLE migr.tenant_applied (
    tenant     text        NOT NULL,   -- its row in migr.tenant comes with the move
    revision   text        NOT NULL REFERENCES migr.revision (id),
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL,
    applied_by name        NOT NULL,
    ms         double precision,
    PRIMARY KEY (tenant, revision)
);
CREATE INDEX tenant_applied_revision_idx ON migr.tenant_applied (revision);
COMMENT ON TABLE migr.tenant_applied IS 'each tenant''s applied set, as migr.applied is the shared one';

CREATE TABLE migr.tenant_partial (
    tenant         text        NOT NULL,
    revision       text        NOT NULL REFERENCES migr.revision (id),
    checksum       text        NOT NULL,
    next_statement integer     NOT NULL CHECK (next_statement OPERATOR(pg_catalog.>) 1),
    started_at     timestamptz NOT NULL,
    started_by     name        NOT NULL,
    PRIMARY KEY (tenant, revision)
);
CREATE INDEX tenant_partial_revision_idx ON migr.tenant_partial (revision);
COMMENT ON TABLE migr.tenant_partial IS 'partially applied revisions of each tenant, as migr.partial for the shared set';

-- A job of a tenant runs with that tenant's schema first on search_path,
-- under that tenant's migr lock, and records into its applied set; each
-- tenant's jobs form a queue of their own (NULL: the shared queue).
ALTER TABLE migr.job ADD COLUMN tenant text;
COMMENT ON COLUMN migr.job.tenant IS 'the tenant whose upgrade queued the job (NULL: the shared applied set)';
ALTER TABLE migr.log ADD COLUMN tenant text;
COMMENT ON COLUMN migr.log.tenant IS 'the tenant moved (NULL: the shared applied set)';

-- One row per migr_upgrade_tenants() call: what its workers need to resume
-- it after a crash, a restart or a promotion.
CREATE SEQUENCE migr.rollout_seq;
CREATE TABLE migr.rollout (
    id          bigint      PRIMARY KEY,
    target      text        NOT NULL,
    workers     integer     NOT NULL CHECK (workers OPERATOR(pg_catalog.>) 0),
    role        name        NOT NULL,   -- the caller: the workers run as this role
    login_role  name        NOT NULL,
    settings    text[]      NOT NULL,   -- migr.* and the like of the caller
    queued_xid  xid8        NOT NULL,
    pids        integer[]   NOT NULL DEFAULT '{}',
    state       text        NOT NULL
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'done'])),
    queued_at   timestamptz NOT NULL,
    finished_at timestamptz
);
ALTER TABLE migr.rollout ALTER COLUMN id
    SET DEFAULT pg_catalog.nextval('migr.rollout_seq'::pg_catalog.regclass);
COMMENT ON TABLE migr.rollout IS 'upgrades of many tenants by background workers (migr_upgrade_tenants)';

SELECT pg_catalog.pg_extension_config_dump('migr.tenant', '');
SELECT pg_catalog.pg_extension_config_dump('migr.tenant_applied', '');
SELECT pg_catalog.pg_extension_config_dump('migr.tenant_partial', '');
SELECT pg_catalog.pg_extension_config_dump('migr.rollout', '');
SELECT pg_catalog.pg_extension_config_dump('migr.rollout_seq', '');
REVOKE ALL ON migr.tenant, migr.tenant_applied, migr.tenant_partial,
    migr.rollout FROM PUBLIC;
REVOKE ALL ON SEQUENCE migr.rollout_seq FROM PUBLIC;
GRANT SELECT ON migr.tenant, migr.tenant_applied, migr.tenant_partial,
    migr.rollout TO PUBLIC;
-- as in 1.0: take back what default privileges may have granted
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT DISTINCT c.oid::pg_catalog.regclass AS rel,
               a.grantee::pg_catalog.regrole AS role
          FROM pg_catalog.pg_class c,
               LATERAL pg_catalog.aclexplode(c.relacl) a
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'migr'::pg_catalog.regnamespace
           AND c.relname OPERATOR(pg_catalog.=) ANY (ARRAY['tenant', 'tenant_applied', 'tenant_partial', 'rollout', 'rollout_seq'])
           AND a.grantee OPERATOR(pg_catalog.<>) 0
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', r.rel, r.role);
    END LOOP;
END
$$;

-- The tenant argument.  Each function of 1.0 stays as it is (signature,
-- grants, objects depending on it): the tenant form is an overload with
-- tenant as a second, required parameter, so no call of 1.0 changes
-- meaning and none becomes ambiguous (a 1.0 call has fewer arguments, and
-- tenant => names a parameter only the overload has).  The overloads run
-- the same C functions, which read the tenant from PG_NARGS().  They have
-- no defaults before tenant: a default must be trailing, and one after it
-- would make the overload a candidate for the 1.0 calls.
CREATE FUNCTION @extschema@.migr_upgrade(
    target text,
    tenant text,
    OUT revision text, OUT message text, OUT ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_upgrade'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_upgrade(text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_upgrade(text, text) IS
    'apply every revision the target needs to a tenant''s schema and applied set (NULL: the shared set); one row per revision applied';

CREATE FUNCTION @extschema@.migr_downgrade(
    target text,
    tenant text,
    OUT revision text, OUT message text, OUT ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_downgrade'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_downgrade(text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_downgrade(text, text) IS
    'revert every revision a tenant applied above the target (NULL: the shared set); one row per revision reverted';

CREATE FUNCTION @extschema@.migr_stamp(
    target text,
    tenant text,
    OUT revision text, OUT action text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_stamp'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_stamp(text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_stamp(text, text) IS
    'make a tenant''s applied set (NULL: the shared set) exactly the target and its ancestors, running no script';

CREATE FUNCTION @extschema@.migr_current(
    tenant text,
    OUT revision text, OUT message text, OUT applied_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_current'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_current(text) IS
    'revisions a tenant applied (NULL: the shared set) that no other applied revision needs, as a parent or through depends_on';

CREATE FUNCTION @extschema@.migr_history(
    range text,
    tenant text,
    OUT revision text, OUT down_revision text[], OUT message text,
    OUT applied boolean, OUT applied_at timestamptz, OUT is_head boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_history'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_history(text, text) IS
    'revisions in topological order, roots first, applied or not by a tenant (NULL: the shared set); range is ''from:to'' (NULL: all)';

CREATE FUNCTION @extschema@.migr_plan(
    target text,
    direction text,
    tenant text,
    OUT step integer, OUT revision text, OUT statement text,
    OUT deferred boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_plan(text, text, text) IS
    'what an upgrade or downgrade of a tenant (NULL: the shared set) to the target would run, statement by statement';

CREATE FUNCTION @extschema@.migr_tenants(
    OUT tenant text, OUT current text[], OUT pending integer,
    OUT state text, OUT error text, OUT updated_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'migr_tenants'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.migr_tenants() IS
    'every tenant: current revisions, revisions pending toward its latest target, rollout state, error and time of its last change';

CREATE FUNCTION @extschema@.migr_upgrade_tenants(
    target text DEFAULT 'head',
    tenants text[] DEFAULT NULL,
    workers integer DEFAULT 4)
RETURNS bigint
AS 'MODULE_PATHNAME', 'migr_upgrade_tenants'
LANGUAGE C VOLATILE;
-- changes state
REVOKE ALL ON FUNCTION @extschema@.migr_upgrade_tenants(text, text[], integer) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.migr_upgrade_tenants(text, text[], integer) IS
    'upgrade many tenants (NULL: every tenant) in background workers, each in its own transaction; returns the rollout''s id';
