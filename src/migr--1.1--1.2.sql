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
