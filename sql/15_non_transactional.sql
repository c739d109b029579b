--
-- Statements the server refuses inside a transaction block (the callers of
-- PreventInTransactionBlock in PostgreSQL 15) are refused when the revision
-- is defined, with a hint, never left to fail at deploy (25001); the
-- CONCURRENTLY forms and VACUUM go to a background worker instead (14_jobs).
-- One case per statement, then the transactional forms, which are fine.
--
SET migr.lint = 'off';
CREATE TABLE nt_t (a int);
CREATE INDEX nt_i ON nt_t (a);
CREATE TABLE nt_p (a int) PARTITION BY RANGE (a);
CREATE TABLE nt_p1 PARTITION OF nt_p FOR VALUES FROM (0) TO (10);
CREATE INDEX nt_pi ON nt_p (a);

-- CREATE DATABASE, DROP DATABASE
SELECT migr_define('nt', NULL, 'CREATE DATABASE nt_db');
\echo :SQLSTATE
SELECT migr_define('nt', NULL, 'DROP DATABASE IF EXISTS nt_db');
-- ALTER DATABASE ... SET TABLESPACE
SELECT migr_define('nt', NULL, 'ALTER DATABASE contrib_regression SET TABLESPACE pg_default');
-- CREATE TABLESPACE, DROP TABLESPACE
SELECT migr_define('nt', NULL, 'CREATE TABLESPACE nt_ts LOCATION ''/nonexistent''');
SELECT migr_define('nt', NULL, 'DROP TABLESPACE IF EXISTS nt_ts');
-- ALTER SYSTEM
SELECT migr_define('nt', NULL, 'ALTER SYSTEM RESET ALL');
-- VACUUM, in a downgrade (an upgrade hands it to the worker)
SELECT migr_define('nt', NULL, 'SELECT 1', 'VACUUM nt_t');
-- CLUSTER without a table
SELECT migr_define('nt', NULL, 'CLUSTER');
-- CLUSTER of a partitioned table
SELECT migr_define('nt', NULL, 'CLUSTER nt_p USING nt_pi');
-- REINDEX SYSTEM, REINDEX DATABASE, REINDEX SCHEMA
SELECT migr_define('nt', NULL, 'REINDEX SYSTEM contrib_regression');
SELECT migr_define('nt', NULL, 'REINDEX DATABASE contrib_regression');
SELECT migr_define('nt', NULL, 'REINDEX SCHEMA public');
-- REINDEX of a partitioned table, of a partitioned index
SELECT migr_define('nt', NULL, 'REINDEX TABLE nt_p');
SELECT migr_define('nt', NULL, 'REINDEX INDEX nt_pi');
-- the CONCURRENTLY forms in a downgrade (REINDEX SCHEMA has no table
-- that the downgrade might have created, so it cannot run in line)
SELECT migr_define('nt', NULL, 'SELECT 1', 'REINDEX SCHEMA CONCURRENTLY public');
SELECT migr_define('nt', NULL, 'SELECT 1', 'REINDEX DATABASE CONCURRENTLY contrib_regression');
-- DISCARD ALL
SELECT migr_define('nt', NULL, 'DISCARD ALL');
-- CREATE SUBSCRIPTION that creates its replication slot (the default)
SELECT migr_define('nt', NULL, 'CREATE SUBSCRIPTION nt_sub CONNECTION ''dbname=nowhere'' PUBLICATION nt_pub');
SELECT migr_define('nt', NULL, 'CREATE SUBSCRIPTION nt_sub CONNECTION ''dbname=nowhere'' PUBLICATION nt_pub WITH (connect = false, create_slot = true)');
-- ALTER SUBSCRIPTION ... REFRESH PUBLICATION
SELECT migr_define('nt', NULL, 'ALTER SUBSCRIPTION nt_sub REFRESH PUBLICATION WITH (copy_data = false)');
-- ALTER SUBSCRIPTION ... SET / ADD / DROP PUBLICATION with refresh (the default)
SELECT migr_define('nt', NULL, 'ALTER SUBSCRIPTION nt_sub SET PUBLICATION nt_pub2');
SELECT migr_define('nt', NULL, 'ALTER SUBSCRIPTION nt_sub ADD PUBLICATION nt_pub2');
SELECT migr_define('nt', NULL, 'ALTER SUBSCRIPTION nt_sub DROP PUBLICATION nt_pub2 WITH (refresh = true)');
-- DROP SUBSCRIPTION of a subscription that has (or may have) a slot
SELECT migr_define('nt', NULL, 'DROP SUBSCRIPTION IF EXISTS nt_sub');
SELECT migr_define('nt', NULL, $$ALTER SUBSCRIPTION nt_sub SET (slot_name = NONE);
DROP SUBSCRIPTION nt_other$$);
-- COMMIT PREPARED, ROLLBACK PREPARED: transaction control
SELECT migr_define('nt', NULL, 'COMMIT PREPARED ''nt_gid''');
SELECT migr_define('nt', NULL, 'ROLLBACK PREPARED ''nt_gid''');
-- among other statements, the error names the statement and its line
SELECT migr_define('nt', NULL, E'CREATE TABLE nt_x (a int);\n\nDISCARD ALL;');
SELECT count(*) FROM migr.revision WHERE id = 'nt';
SELECT to_regclass('nt_x') IS NULL AS nothing_created;

-- the transactional forms are accepted, and run in the caller's transaction
SELECT migr_define('nt_ok', NULL, $$
DISCARD TEMP;
DISCARD PLANS;
CLUSTER nt_t USING nt_i;
CLUSTER nt_p1 USING nt_p1_a_idx;
REINDEX TABLE nt_t;
REINDEX INDEX nt_i;
REINDEX TABLE nt_p1;
ANALYZE nt_t;
CREATE SUBSCRIPTION nt_sub CONNECTION 'dbname=nowhere' PUBLICATION nt_pub WITH (connect = false);
ALTER SUBSCRIPTION nt_sub SET PUBLICATION nt_pub2 WITH (refresh = false);
ALTER SUBSCRIPTION nt_sub ADD PUBLICATION nt_pub3 WITH (refresh = false);
ALTER SUBSCRIPTION nt_sub SET (slot_name = NONE);
DROP SUBSCRIPTION nt_sub;
$$);
SELECT revision FROM migr_upgrade('nt_ok');
SELECT count(*) FROM pg_subscription WHERE subname = 'nt_sub';
-- REINDEX SCHEMA CONCURRENTLY in an upgrade goes to the worker, never in line
SELECT migr_define('nt_conc', '{nt_ok}', 'REINDEX SCHEMA CONCURRENTLY public');
SELECT step, revision, statement, deferred FROM migr_plan('nt_conc');
SELECT revision, ms IS NULL AS queued FROM migr_upgrade('nt_conc');
SELECT migr_wait('60s');
SELECT revision, statement, state, attempts, error FROM migr_jobs();
SELECT revision FROM migr_current();

-- clean up
DROP TABLE nt_t, nt_p;
DROP EXTENSION migr;
CREATE EXTENSION migr;
