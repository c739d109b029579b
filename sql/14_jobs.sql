--
-- Statements that cannot run in a transaction block (README, "Concurrent index builds"), as far
-- as a single session can see them: routing in line, plans, the job queue's
-- functions and their errors, and one whole trip through the worker.
-- (Concurrency, crashes and restarts are TAP tests: test/t/020_worker_*.)
--
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

SHOW migr.max_job_attempts;
SET migr.max_job_attempts = 0;
SELECT * FROM migr_jobs();
SELECT migr_wait();            -- nothing queued: true at once
SELECT migr_wait('1s');
SELECT migr_wait('-1s');
\echo :SQLSTATE
SELECT migr_retry(NULL);
\echo :SQLSTATE
SELECT migr_retry(42);
\echo :SQLSTATE
SELECT migr_cancel(42);
\echo :SQLSTATE

-- a table created in the same revision: the index is built in line,
-- without CONCURRENTLY, and is there before the transaction commits
SELECT migr_define('j1', NULL,
  $$CREATE TABLE job_fresh (a int);
    CREATE INDEX CONCURRENTLY job_fresh_a ON job_fresh (a);
    CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS job_fresh_a2 ON job_fresh (a)$$,
  $$DROP INDEX CONCURRENTLY job_fresh_a2; DROP TABLE job_fresh$$);
SELECT step, revision, deferred FROM migr_plan('j1');
BEGIN;
SELECT revision, ms IS NOT NULL AS ran_here FROM migr_upgrade('j1');
SELECT indexrelid::regclass, indisvalid FROM pg_index
 WHERE indrelid = 'job_fresh'::regclass ORDER BY 1;
COMMIT;
SELECT count(*) AS jobs FROM migr_jobs();

-- an existing table: the plan shows what a worker would run
CREATE TABLE job_big AS SELECT g AS id, g % 100 AS k FROM generate_series(1, 10000) g;
SELECT migr_define('j2', '{j1}',
  $$ALTER TABLE job_big ADD COLUMN note text;
    CREATE INDEX CONCURRENTLY job_big_k ON job_big (k);
    ALTER TABLE job_big ADD COLUMN later int$$,
  $$DROP INDEX CONCURRENTLY job_big_k;
    ALTER TABLE job_big DROP COLUMN note, DROP COLUMN later$$);
SELECT migr_define('j3', '{j2}', 'CREATE TABLE job_after (a int)', 'DROP TABLE job_after');
SELECT step, revision, statement, deferred FROM migr_plan('head');

-- queued in this transaction: waiting here would wait forever
BEGIN;
SELECT revision, ms IS NULL AS queued FROM migr_upgrade('head');
SELECT migr_wait();
\echo :SQLSTATE
ROLLBACK;
-- rolled back: nothing was queued, nothing is left
SELECT count(*) AS jobs FROM migr_jobs();
SELECT revision, applied FROM migr_history();
SELECT to_regclass('job_big_k') AS idx,
       (SELECT count(*) FROM information_schema.columns
         WHERE table_name = 'job_big' AND column_name = 'note') AS note;

-- committed: the worker builds the index and applies the rest
SELECT revision, ms IS NULL AS queued FROM migr_upgrade('head');
-- meanwhile, nobody waits for the worker, and nothing else moves (the
-- NOTICE naming the job is hidden: whether the worker has marked the job
-- running yet is a matter of timing; 020_worker_queue.pl checks it)
SET client_min_messages = warning;
SELECT revision, ms IS NULL AS queued FROM migr_upgrade('head');
RESET client_min_messages;
SELECT revision FROM migr_downgrade('base');
\echo :SQLSTATE
SELECT revision FROM migr_stamp('j1');
\echo :SQLSTATE
SELECT migr_wait('60s');
SELECT revision, statement, state, attempts, error FROM migr_jobs();
SELECT revision, applied FROM migr_history();
SELECT indexrelid::regclass, indisvalid FROM pg_index
 WHERE indrelid = 'job_big'::regclass;
SELECT column_name FROM information_schema.columns
 WHERE table_name = 'job_big' ORDER BY column_name;
SELECT action, revision, outcome FROM migr.log
 WHERE action IN ('upgrade', 'downgrade') ORDER BY id;
SELECT revision, ms IS NULL FROM migr_upgrade('head');   -- nothing to do

-- a finished job cannot be retried or cancelled
SELECT migr_retry(min(id)) FROM migr_jobs();
\echo :SQLSTATE
SELECT migr_cancel(min(id)) FROM migr_jobs();
\echo :SQLSTATE

-- a downgrade runs DROP INDEX CONCURRENTLY in line, without CONCURRENTLY
SELECT revision FROM migr_downgrade('base');
SELECT to_regclass('job_big_k') AS idx, to_regclass('job_fresh') AS fresh;
SELECT count(*) AS jobs_after_downgrade FROM migr_jobs() WHERE state <> 'done';

DROP TABLE job_big;
DROP EXTENSION migr;
CREATE EXTENSION migr;
