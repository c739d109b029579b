-- Autogenerate: migr_schema_of(), migr_diff(), migr_autogenerate(),
-- migr_baseline(): a small worked example and the bad input.
SET client_min_messages = warning;
DROP EXTENSION migr;
CREATE EXTENSION migr;
CREATE SCHEMA ag;
SET search_path = ag, public;

-- a worked example: the live schema has one table ...
CREATE TABLE ag.users (id int PRIMARY KEY, email text);
-- ... and the schema file wants more of it
SELECT jsonb_pretty(migr_schema_of($$
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, mood mood);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE VIEW happy AS SELECT id FROM users WHERE mood = 'happy';
$$, 'ag') -> 'tables' -> 'ag.users' -> 'columns');

SELECT step, direction, statement, hazard
  FROM migr_diff(migr_schema_of($$
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, mood mood);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE VIEW happy AS SELECT id FROM users WHERE mood = 'happy';
$$, 'ag'));

-- nothing of the script persists, and no scratch schema is left
SELECT count(*) AS scratch_schemas FROM pg_namespace WHERE nspname LIKE 'migr_scratch_%';
SELECT to_regtype('ag.mood') AS mood_type;

-- the same description as the schema built for real
CREATE SCHEMA ag2;
CREATE TABLE ag2.t (a int PRIMARY KEY, b text DEFAULT 'x', CHECK (a > 0));
CREATE INDEX t_b ON ag2.t (b) WHERE b <> '';
SELECT migr_schema_of($$CREATE TABLE t (a int PRIMARY KEY, b text DEFAULT 'x', CHECK (a > 0));
CREATE INDEX t_b ON t (b) WHERE b <> '';$$, 'ag2') = migr_schema(ARRAY['ag2']) AS same_description;

-- a revision file on top of the head; it defines nothing
SELECT migr_define('r1', NULL, 'SELECT 1', 'SELECT 1');
SELECT migr_autogenerate(migr_schema_of('CREATE TABLE users (id int PRIMARY KEY, email text, phone text);', 'ag'),
                         'add phone', 'r2');
SELECT count(*) AS defined FROM migr.revision WHERE id = 'r2';

-- everything dropped: the revision says so loudly
SELECT migr_autogenerate(migr_schema_of('', 'ag'), 'oops', 'r3') ~ 'THE DESIRED SCHEMA IS EMPTY' AS loud;

-- a difference that cannot be written is a row, never skipped
SELECT direction, statement, hazard FROM migr_diff(
  '{"format": 1, "schemas": {"ag": {}}, "unsupported": ["operator ag.===(integer,integer)"]}',
  '{"format": 1, "schemas": {"ag": {}}}');

-- bad input
SELECT migr_schema_of($$CREATE TABLE a (x int);
CREATE TABLE b (y no_such_type);$$);
SELECT migr_schema_of('CREATE TABLE a (x int); COMMIT;');
SELECT migr_schema_of('CREATE TABLE public.a (x int);');
SELECT migr_schema_of('CREATE SCHEMA elsewhere;');
SELECT migr_schema_of('CREATE INDEX CONCURRENTLY i ON ag.users (email);');
SELECT migr_schema_of(E'CREATE TABLE a (x int);\nCREATE TABLE (;');
SELECT migr_schema_of(NULL);
SELECT * FROM migr_diff('[1, 2]');
SELECT * FROM migr_diff('{"format": 99}');
SELECT migr_autogenerate('{"format": 1}', 'x', 'not a valid id!');
SELECT migr_baseline();
RESET search_path;
DROP SCHEMA ag CASCADE;
DROP SCHEMA ag2 CASCADE;
SELECT count(*) AS scratch_schemas FROM pg_namespace WHERE nspname LIKE 'migr_scratch_%';
