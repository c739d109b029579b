-- migr_schema() and migr_fingerprint(): the canonical description of a
-- schema, one object of every kind.  Everything lives in schema s30, owned
-- by a role of its own, so that the output does not depend on other tests
-- or on the name of the superuser running them.
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_s30;
DROP ROLE IF EXISTS regress_s30_reader;
RESET client_min_messages;
CREATE ROLE regress_s30;
CREATE ROLE regress_s30_reader;
CREATE SCHEMA s30 AUTHORIZATION regress_s30;
GRANT CREATE ON DATABASE contrib_regression TO regress_s30;
SET ROLE regress_s30;
SET search_path = s30;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text COLLATE "C");
CREATE TYPE span AS RANGE (subtype = float8);
CREATE DOMAIN posint AS int NOT NULL DEFAULT 1 CONSTRAINT positive CHECK (VALUE > 0);
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE SEQUENCE ticket START 100 INCREMENT 5 CACHE 2;
CREATE FUNCTION add1(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + 1';
CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN NEW.updated := now(); RETURN NEW; END$$;
CREATE TABLE users (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text COLLATE "C" NOT NULL UNIQUE,
    nick text COLLATE ci,
    age posint,
    m mood DEFAULT 'ok',
    twice int GENERATED ALWAYS AS (id * 2) STORED,
    updated timestamptz DEFAULT '2026-01-01 12:00:00+00',
    score float8 DEFAULT 0.1,
    CONSTRAINT adult CHECK (age >= 18) NOT VALID
) WITH (fillfactor = 70);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE users REPLICA IDENTITY FULL;
COMMENT ON TABLE users IS 'people';
COMMENT ON COLUMN users.email IS 'where to write';
GRANT SELECT ON users TO regress_s30_reader;
GRANT UPDATE (nick) ON users TO regress_s30_reader;
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id int REFERENCES users DEFERRABLE INITIALLY DEFERRED,
    during tstzrange,
    EXCLUDE USING gist (during WITH &&)
);
CREATE UNLOGGED TABLE scratch (x int);
CREATE TABLE base (a int);
CREATE TABLE child (b int) INHERITS (base);
CREATE TABLE events (at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_at_idx ON events (at);
CREATE INDEX users_lower_email ON users (lower(email)) WHERE age > 20;
COMMENT ON INDEX users_lower_email IS 'login lookups';
CREATE VIEW adults WITH (security_barrier) AS SELECT id, email FROM users WHERE age >= 18;
CREATE MATERIALIZED VIEW user_count AS SELECT count(*) AS n FROM users;
CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
CREATE RULE scratch_ignore AS ON DELETE TO scratch DO INSTEAD NOTHING;
CREATE POLICY own ON users FOR SELECT TO regress_s30_reader USING (nick IS NOT NULL);
CREATE STATISTICS users_stats (dependencies) ON email, nick FROM users;
ALTER DEFAULT PRIVILEGES IN SCHEMA s30 GRANT SELECT ON TABLES TO regress_s30_reader;
SET client_min_messages = error;	-- wal_level is not logical
CREATE PUBLICATION s30_pub FOR TABLE users (id, email) WHERE (id > 0) WITH (publish = 'insert');
RESET client_min_messages;
CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int);
RESET ROLE;
CREATE OPERATOR s30.=== (leftarg = int, rightarg = int, function = int4eq);
RESET search_path;

-- the whole description of s30, but for what belongs to the database as a
-- whole (extensions, publications, default privileges, unsupported)
\pset format unaligned
\pset tuples_only on
SELECT jsonb_pretty(migr_schema('{s30}') -
       '{extensions,publications,default_privileges,unsupported}'::text[]);

-- those, for what s30 put there
SELECT jsonb_pretty(migr_schema('{s30}') -> 'publications' -> 's30_pub');
SELECT jsonb_pretty(migr_schema('{s30}') -> 'default_privileges'
                    -> 'regress_s30 in schema s30 on tables');
\pset format aligned
\pset tuples_only off
SELECT u FROM jsonb_array_elements_text(migr_schema('{s30}') -> 'unsupported') u
 WHERE u LIKE '%s30.%';
SELECT migr_schema('{s30}') -> 'extensions' -> 'plpgsql' AS plpgsql,
       migr_schema('{s30}') -> 'extensions' ? 'migr' AS lists_migr;

-- the fingerprint is the SHA-256 of the description's text
SELECT migr_fingerprint('{s30}') = encode(sha256(convert_to(migr_schema('{s30}')::text, 'UTF8')), 'hex')
       AS sha256;

-- nothing the session sets changes the description
SELECT migr_fingerprint('{s30}') AS fp30 \gset
SET search_path = s30, public;
SET datestyle = 'SQL, DMY';
SET timezone = 'Asia/Tokyo';
SET extra_float_digits = 3;
SET intervalstyle = 'iso_8601';
SET quote_all_identifiers = on;
SELECT migr_fingerprint('{s30}') = :'fp30' AS same;
SELECT migr_schema('{s30}') -> 'tables' -> 's30.users' -> 'columns' -> 6 AS updated;
RESET search_path;
RESET datestyle;
RESET timezone;
RESET extra_float_digits;
RESET intervalstyle;
RESET quote_all_identifiers;

-- objects the server made for another object are described with it
SELECT k FROM jsonb_object_keys(migr_schema('{s30}') -> 'types') k ORDER BY k;
SELECT k FROM jsonb_object_keys(migr_schema('{s30}') -> 'sequences') k ORDER BY k;
SELECT k FROM jsonb_object_keys(migr_schema('{s30}') -> 'functions') k ORDER BY k;

-- extension members are left out: the extension appears by name
CREATE EXTENSION citext SCHEMA s30;
SELECT migr_schema('{s30}') -> 'extensions' -> 'citext' ->> 'schema' AS citext_schema,
       migr_fingerprint('{s30}') <> :'fp30' AS changed,
       migr_schema('{s30}') - 'extensions' = (SELECT migr_schema('{s30}') - 'extensions') AS same_rest;
SELECT count(*) AS citext_functions
  FROM jsonb_object_keys(migr_schema('{s30}') -> 'functions') k WHERE k LIKE '%citext%';
DROP EXTENSION citext;
SELECT migr_fingerprint('{s30}') = :'fp30' AS back;

-- migr.schemas chooses the schemas described by default
SET migr.schemas = 's30';
SELECT migr_schema() = migr_schema('{s30}') AS from_setting;
SET migr.schemas = '"s30", pg_catalog';
SELECT migr_schema() -> 'schemas' ? 'pg_catalog' AS lists_pg_catalog;
RESET migr.schemas;
-- by default: every user schema, not migr's
SELECT migr_schema() -> 'schemas' ? 's30' AS has_s30,
       migr_schema() -> 'schemas' ? 'migr' AS has_migr,
       migr_schema() -> 'schemas' ? 'pg_catalog' AS has_pg_catalog,
       migr_schema() -> 'schemas' ? 'information_schema' AS has_information_schema;
-- a schema given explicitly is described, even an empty one
CREATE SCHEMA s30_empty AUTHORIZATION regress_s30;
SELECT migr_schema('{s30_empty}') -> 'schemas' AS empty_schema,
       migr_schema('{s30_empty}') -> 'tables' AS no_tables;
DROP SCHEMA s30_empty;
SELECT migr_schema('{}') -> 'schemas' AS no_schema;

-- errors
SELECT migr_schema('{nope}');
SELECT migr_fingerprint('{s30,NULL}');
SELECT migr_schema('{{s30}}');
SET migr.schemas = 'nope';
SELECT migr_schema();
RESET migr.schemas;
SET migr.schemas = 's30,,x';

-- anyone may describe
SET ROLE regress_s30_reader;
SELECT migr_fingerprint('{s30}') = :'fp30' AS reader_same;
RESET ROLE;
