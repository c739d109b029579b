--
-- migr_define(): ids, parents, labels, kinds, redefinition, cycles and
-- missing parents.  (The scripts themselves: 04_scripts.)
--

-- returns the id it was given
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int)', 'DROP TABLE def_t1',
                   'first revision');
SELECT id, seq, down_revision, depends_on, branch_labels, message, kind,
       upgrade, downgrade, length(checksum) AS checksum_len,
       EXISTS (SELECT 1 FROM migr.head h WHERE h.revision = id) AS is_head,
       defined_by = current_user AS by_me
  FROM migr.revision ORDER BY seq;

-- a NULL id is generated: 12 lowercase hex digits, different each time
BEGIN;
SELECT migr_define(NULL, '{d1}', 'CREATE TABLE def_gen (a int)') ~ '^[0-9a-f]{12}$' AS generated;
SELECT migr_define(NULL, '{d1}', 'CREATE TABLE def_gen (a int)') ~ '^[0-9a-f]{12}$' AS generated;
SELECT count(DISTINCT id) AS generated_ids FROM migr.revision WHERE id <> 'd1';
ROLLBACK;

-- defaults: no parents, no labels, no dependencies, kind schema, message ''
SELECT migr_define('d2', '{d1}', 'ALTER TABLE def_t1 ADD COLUMN b int');
SELECT down_revision, depends_on, branch_labels, message, kind, downgrade IS NULL AS irreversible
  FROM migr.revision WHERE id = 'd2';
-- NULL is refused (22004), naming the argument, where no default says what
-- it means: message, branch_labels, depends_on, kind, upgrade
SELECT migr_define('d3', NULL, 'CREATE TABLE def_t3 (a int)', NULL, NULL, NULL, NULL, 'schema');
\echo :SQLSTATE
SELECT migr_define('d3', NULL, 'CREATE TABLE def_t3 (a int)', branch_labels => NULL);
\echo :SQLSTATE
SELECT migr_define('d3', NULL, 'CREATE TABLE def_t3 (a int)', depends_on => NULL);
\echo :SQLSTATE
SELECT migr_define('d3', NULL, 'CREATE TABLE def_t3 (a int)', kind => NULL);
\echo :SQLSTATE
SELECT migr_define('d3', NULL, NULL);
\echo :SQLSTATE
SELECT count(*) FROM migr.revision WHERE id = 'd3';
-- NULL down_revision and downgrade mean a root that cannot be reverted
SELECT migr_define('d3', NULL, 'CREATE TABLE def_t3 (a int)', NULL, '', '{}', '{}', 'schema');
SELECT down_revision, depends_on, branch_labels, message, kind, downgrade IS NULL AS irreversible
  FROM migr.revision WHERE id = 'd3';
-- named arguments
SELECT migr_define(id => 'd4', down_revision => '{d3}', upgrade => 'CREATE TABLE def_t4 (a int)',
                   kind => 'data', message => 'named', branch_labels => '{lbl4}',
                   depends_on => '{d2}');
SELECT down_revision, depends_on, branch_labels, message, kind
  FROM migr.revision WHERE id = 'd4';

-- the same definition again is a no-op: no NOTICE, nothing written
SELECT count(*) AS log_rows FROM migr.log;
SELECT seq AS d1_seq, checksum AS d1_checksum FROM migr.revision WHERE id = 'd1' \gset
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int)', 'DROP TABLE def_t1',
                   'first revision');
SELECT count(*) AS log_rows FROM migr.log;
SELECT seq = :d1_seq AS same_seq, checksum = :'d1_checksum' AS same_checksum
  FROM migr.revision WHERE id = 'd1';
SELECT action, revision, outcome FROM migr.log ORDER BY id;

-- changing a revision that is not applied replaces it, with a NOTICE naming
-- what differs; it keeps its place in the definition order
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int, z int)', 'DROP TABLE def_t1',
                   'first revision, changed');
SELECT seq = :d1_seq AS same_seq, checksum <> :'d1_checksum' AS new_checksum,
       upgrade, message
  FROM migr.revision WHERE id = 'd1';
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int)', NULL, 'first revision');
SELECT downgrade IS NULL AS irreversible FROM migr.revision WHERE id = 'd1';
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int)', 'DROP TABLE def_t1',
                   'first revision');
SELECT action, revision, outcome FROM migr.log ORDER BY id;

-- changing an applied revision is refused (MG002), with the way out
SELECT revision FROM migr_upgrade('d2');
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a bigint)', 'DROP TABLE def_t1',
                   'first revision');
\echo :SQLSTATE
-- even a change of white space only
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int) ', 'DROP TABLE def_t1',
                   'first revision');
\echo :SQLSTATE
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int)', 'DROP  TABLE def_t1',
                   'first revision');
\echo :SQLSTATE
-- or of the message, parents, labels, dependencies, kind, irreversibility
SELECT migr_define('d1', NULL, 'CREATE TABLE def_t1 (a int)', 'DROP TABLE def_t1',
                   'first revision!');
\echo :SQLSTATE
SELECT migr_define('d2', '{d1}', 'ALTER TABLE def_t1 ADD COLUMN b int', NULL, '',
                   '{newlabel}');
SELECT migr_define('d2', '{d1}', 'ALTER TABLE def_t1 ADD COLUMN b int', NULL, '',
                   '{}', '{d3}');
SELECT migr_define('d2', '{d1}', 'ALTER TABLE def_t1 ADD COLUMN b int', NULL, '',
                   '{}', '{}', 'data');
SELECT migr_define('d2', '{d1}', 'ALTER TABLE def_t1 ADD COLUMN b int',
                   'ALTER TABLE def_t1 DROP COLUMN b');
SELECT migr_define('d2', '{d3}', 'ALTER TABLE def_t1 ADD COLUMN b int');
-- the applied revision is unchanged
SELECT id, upgrade, downgrade, message FROM migr.revision WHERE id IN ('d1', 'd2') ORDER BY seq;
-- and defining it exactly as it is still works
SELECT migr_define('d2', '{d1}', 'ALTER TABLE def_t1 ADD COLUMN b int');

--
-- NULL arguments
--
SELECT migr_define('n1', NULL, NULL);
\echo :SQLSTATE
SELECT migr_define('n1', NULL, 'SELECT 1', kind => NULL);
\echo :SQLSTATE
SELECT migr_define('n1', ARRAY['d1', NULL], 'SELECT 1');
\echo :SQLSTATE
SELECT migr_define('n1', NULL, 'SELECT 1', branch_labels => ARRAY[NULL]::text[]);
SELECT migr_define('n1', NULL, 'SELECT 1', depends_on => ARRAY['d1', NULL]);
SELECT migr_define('n1', '{{d1},{d2}}', 'SELECT 1');
SELECT count(*) FROM migr.revision WHERE id = 'n1';

--
-- ids: 1 to 64 characters of [A-Za-z0-9_.-], not starting with + or -, not
-- a reserved word
--
SELECT migr_define('', NULL, 'SELECT 1');
\echo :SQLSTATE
SELECT migr_define(repeat('x', 65), NULL, 'SELECT 1');
SELECT migr_define(repeat('x', 64), NULL, 'CREATE TABLE def_long (a int)');
SELECT migr_define('with space', NULL, 'SELECT 1');
SELECT migr_define('a/b', NULL, 'SELECT 1');
SELECT migr_define('caf' || U&'\00E9', NULL, 'SELECT 1');
SELECT migr_define('semi;colon', NULL, 'SELECT 1');
SELECT migr_define('quote''s', NULL, 'SELECT 1');
SELECT migr_define('at@head', NULL, 'SELECT 1');
SELECT migr_define('+1', NULL, 'SELECT 1');
SELECT migr_define('-x', NULL, 'SELECT 1');
SELECT migr_define('head', NULL, 'SELECT 1');
SELECT migr_define('heads', NULL, 'SELECT 1');
SELECT migr_define('base', NULL, 'SELECT 1');
SELECT migr_define('current', NULL, 'SELECT 1');
\echo :SQLSTATE
-- every allowed character
SELECT migr_define('Ab_9.x-Y', NULL, 'CREATE TABLE def_chars (a int)');
-- a parent or dependency must be a valid id too
SELECT migr_define('n2', '{"bad id"}', 'SELECT 1');
SELECT migr_define('n2', '{head}', 'SELECT 1');
SELECT migr_define('n2', NULL, 'SELECT 1', depends_on => '{-1}');
SELECT count(*) FROM migr.revision WHERE id = 'n2';

-- kind
SELECT migr_define('k1', NULL, 'SELECT 1', kind => 'ddl');
\echo :SQLSTATE
SELECT migr_define('k1', NULL, 'SELECT 1', kind => 'Schema');
SELECT migr_define('k1', NULL, 'SELECT 1', kind => '');

--
-- branch labels
--
SELECT migr_define('l1', NULL, 'SELECT 1', branch_labels => '{"two words"}');
SELECT migr_define('l1', NULL, 'SELECT 1', branch_labels => '{base}');
SELECT migr_define('l1', NULL, 'SELECT 1', branch_labels => '{""}');
SELECT migr_define('l1', NULL, 'SELECT 1', branch_labels => '{x,x}');
-- a label belongs to one revision
SELECT migr_define('l1', NULL, 'SELECT 1', branch_labels => '{lbl4}');
\echo :SQLSTATE
-- a label is never a revision id, and the other way round
SELECT migr_define('l1', NULL, 'SELECT 1', branch_labels => '{d3}');
\echo :SQLSTATE
SELECT migr_define('lbl4', NULL, 'SELECT 1');
\echo :SQLSTATE
-- a revision may carry several labels, and redefining it with them is fine
SELECT migr_define('l1', NULL, 'CREATE TABLE def_l1 (a int)', branch_labels => '{lblA,lblB}');
SELECT migr_define('l1', NULL, 'CREATE TABLE def_l1 (a int)', branch_labels => '{lblA,lblB}');
-- an unapplied revision may change its labels; the old ones are free again
SELECT migr_define('l1', NULL, 'CREATE TABLE def_l1 (a int)', branch_labels => '{lblA}');
SELECT migr_define('l2', NULL, 'CREATE TABLE def_l2 (a int)', branch_labels => '{lblB}');
SELECT id, branch_labels FROM migr.revision WHERE id IN ('l1', 'l2') ORDER BY id;
-- a label is never a revision id, not even the revision's own
SELECT migr_define('l3', NULL, 'SELECT 1', branch_labels => '{l3}');
\echo :SQLSTATE

--
-- parents and dependencies
--
-- redefining an unapplied revision with other parents moves the heads
SELECT migr_define('h1', NULL, 'CREATE TABLE def_h1 (a int)');
SELECT migr_define('h2', '{h1}', 'CREATE TABLE def_h2 (a int)');
SELECT id, EXISTS (SELECT 1 FROM migr.head h WHERE h.revision = id) AS is_head FROM migr.revision WHERE id IN ('h1', 'h2') ORDER BY id;
SELECT migr_define('h2', NULL, 'CREATE TABLE def_h2 (a int)');
SELECT id, EXISTS (SELECT 1 FROM migr.head h WHERE h.revision = id) AS is_head FROM migr.revision WHERE id IN ('h1', 'h2') ORDER BY id;
SELECT migr_define('h2', '{h1}', 'CREATE TABLE def_h2 (a int)');
SELECT id, EXISTS (SELECT 1 FROM migr.head h WHERE h.revision = id) AS is_head FROM migr.revision WHERE id IN ('h1', 'h2') ORDER BY id;
SELECT revision FROM migr_heads() WHERE revision LIKE 'h_';
SELECT migr_define('p1', '{d1,d1}', 'SELECT 1');
\echo :SQLSTATE
SELECT migr_define('p1', NULL, 'SELECT 1', depends_on => '{d1,d1}');
SELECT migr_define('p1', '{p1}', 'SELECT 1');
\echo :SQLSTATE
SELECT migr_define('p1', NULL, 'SELECT 1', depends_on => '{p1}');
\echo :SQLSTATE
SELECT count(*) FROM migr.revision WHERE id = 'p1';

-- a parent that is not defined yet is allowed, and reported by migr_check()
SELECT migr_define('m2', '{m1}', 'CREATE TABLE def_m2 (a int)', 'DROP TABLE def_m2');
SELECT migr_define('m3', '{m2}', 'CREATE TABLE def_m3 (a int)', 'DROP TABLE def_m3',
                   depends_on => '{m0}');
SELECT revision, severity, code, message, hint FROM migr_check()
 WHERE code <> 'multiple_heads' ORDER BY revision, code;
-- applying through it is an error (MG003), and nothing is applied
SELECT revision FROM migr_upgrade('m3');
\echo :SQLSTATE
SELECT revision FROM migr_upgrade('m2');
\echo :SQLSTATE
SELECT count(*) FROM migr.applied WHERE revision LIKE 'm%';
-- once defined, the way is open
SELECT migr_define('m1', NULL, 'CREATE TABLE def_m1 (a int)', 'DROP TABLE def_m1');
SELECT revision FROM migr_upgrade('m2');
SELECT revision FROM migr_upgrade('m3');
\echo :SQLSTATE
SELECT migr_define('m0', NULL, 'CREATE TABLE def_m0 (a int)', 'DROP TABLE def_m0');
SELECT revision FROM migr_upgrade('m3');
SELECT revision, code FROM migr_check() WHERE code <> 'multiple_heads';

--
-- cycles are refused when they would be closed (MG005)
--
-- through a parent defined later: c1 -> c2, then c2 -> c1
SELECT migr_define('c1', '{c2}', 'SELECT 1');
SELECT migr_define('c2', '{c1}', 'SELECT 1');
\echo :SQLSTATE
SELECT count(*) FROM migr.revision WHERE id = 'c2';
-- a longer one: c3 -> c4 -> c5, then c5 -> c3
SELECT migr_define('c3', '{c4}', 'SELECT 1');
SELECT migr_define('c4', '{c5}', 'SELECT 1');
SELECT migr_define('c5', '{c3}', 'SELECT 1');
\echo :SQLSTATE
-- through depends_on: c6 depends on c7, then c7 with c6 as parent
SELECT migr_define('c6', NULL, 'SELECT 1', depends_on => '{c7}');
SELECT migr_define('c7', '{c6}', 'SELECT 1');
\echo :SQLSTATE
-- by redefining an unapplied revision: c8 <- c9, then c8 -> c9
SELECT migr_define('c8', NULL, 'SELECT 1');
SELECT migr_define('c9', '{c8}', 'SELECT 1');
SELECT migr_define('c8', '{c9}', 'SELECT 1');
\echo :SQLSTATE
SELECT down_revision FROM migr.revision WHERE id = 'c8';
-- the graph has no cycle
SELECT revision, code FROM migr_check() WHERE code = 'cycle';

--
-- a script larger than 16 MB is refused (54000), in bounded memory
--
SELECT migr_define('big', NULL, repeat('SELECT 1;', 2000000));
\echo :SQLSTATE
SELECT migr_define('big', NULL, 'SELECT 1', repeat('SELECT 1;', 2000000));
\echo :SQLSTATE
-- just under the limit is fine
SELECT migr_define('big', NULL, 'CREATE TABLE def_big (a int);' || repeat(' ', 16 * 1024 * 1024 - 29));
SELECT length(upgrade) FROM migr.revision WHERE id = 'big';

-- what was logged
SELECT action, count(*) FROM migr.log GROUP BY action ORDER BY action;

-- clean up
SELECT revision FROM migr_downgrade('d2');
SELECT revision FROM migr_current();
DROP TABLE def_t1, def_m0, def_m1, def_m2, def_m3;

--
-- Hostile input costs time in proportion to its size, and can be cancelled
-- (statement_timeout) at any point: a statement that would run for seconds
-- is cancelled after 50 ms, well within a second.
--
CREATE FUNCTION pg_temp.cancelled_within(sql text, bound interval)
RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE sql;
    RETURN 'finished';
EXCEPTION WHEN query_canceled THEN
    RETURN CASE WHEN clock_timestamp() - t0 < bound THEN 'cancelled in time'
                ELSE 'cancelled late' END;
END
$f$;
CREATE TEMP TABLE hostile_parents AS
  SELECT array_agg('p' || g) AS v FROM generate_series(1, 200000) g;
SET statement_timeout = '50ms';
SELECT pg_temp.cancelled_within($$SELECT migr_define('hp', v, 'SELECT 1') FROM hostile_parents$$, '1s');
RESET statement_timeout;
SELECT count(*) FROM migr.revision WHERE id = 'hp';
-- and 200000 parents are checked for duplicates in n log n
SELECT migr_define('hp', v || '{p99999}', 'SELECT 1') FROM hostile_parents;
\echo :SQLSTATE
DROP EXTENSION migr;
CREATE EXTENSION migr;
