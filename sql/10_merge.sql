--
-- migr_merge(): an empty revision whose parents are the given revisions
-- (by default every head).
--
-- Settings of features that come later (lint, data operations) are turned
-- off where they exist, so that this file's output does not depend on them.
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

-- nothing to merge yet
SELECT migr_merge();
\echo :SQLSTATE
SELECT migr_define('root', NULL, 'CREATE TABLE mrg_root (a int)', 'DROP TABLE mrg_root');
SELECT migr_merge();
SELECT migr_merge(NULL);

-- three branches
SELECT migr_define('alpha1', '{root}', 'CREATE TABLE mrg_alpha (a int)', 'DROP TABLE mrg_alpha',
                   branch_labels => '{alpha}');
SELECT migr_define('beta1', '{root}', 'CREATE TABLE mrg_beta (a int)', 'DROP TABLE mrg_beta');
SELECT migr_define('gamma1', '{root}', 'CREATE TABLE mrg_gamma (a int)', 'DROP TABLE mrg_gamma');
SELECT migr_define('gamma2', '{gamma1}', 'ALTER TABLE mrg_gamma ADD b int', 'ALTER TABLE mrg_gamma DROP b');
SELECT revision FROM migr_heads();
SELECT revision FROM migr_upgrade('alpha1');

-- explicit revisions, by id, prefix and label; a revision named twice counts once
SELECT migr_merge(ARRAY['alpha1', 'bet', 'alpha'], 'merge alpha and beta', 'mab');
SELECT revision, down_revision, message, kind, upgrade, downgrade, applied
  FROM migr_show('mab');
SELECT revision FROM migr_heads();
-- the same merge again is a no-op
SELECT migr_merge(ARRAY['alpha1', 'beta1'], 'merge alpha and beta', 'mab');
-- at least two different revisions
SELECT migr_merge(ARRAY['alpha1', 'alpha'], 'm', 'mx');
\echo :SQLSTATE
SELECT migr_merge(ARRAY['alpha1'], 'm', 'mx');
SELECT migr_merge('{}', 'm', 'mx');
-- each must exist, and be named unambiguously
SELECT migr_merge(ARRAY['alpha1', 'nope'], 'm', 'mx');
\echo :SQLSTATE
SELECT migr_merge(ARRAY['alpha1', 'gamma'], 'm', 'mx');
\echo :SQLSTATE
SELECT migr_merge(ARRAY['alpha1', 'heads'], 'm', 'mx');
SELECT migr_merge(ARRAY['alpha1', NULL], 'm', 'mx');
\echo :SQLSTATE
-- a NULL message is refused (22004); NULL revisions and id mean every head
-- and a generated id
SELECT migr_merge(NULL, NULL, 'mx');
\echo :SQLSTATE
-- the id follows the id rules
SELECT migr_merge(ARRAY['alpha1', 'beta1'], 'm', 'bad id');
SELECT migr_merge(ARRAY['alpha1', 'beta1'], 'm', 'head');
SELECT count(*) FROM migr.revision WHERE id = 'mx';

-- by default, every head; the id is generated, the message is "merge heads"
SELECT migr_merge() AS merge_id \gset
SELECT :'merge_id' ~ '^[0-9a-f]{12}$' AS generated;
SELECT down_revision, message, upgrade, downgrade FROM migr_show(:'merge_id');
SELECT count(*) AS heads FROM migr_heads();
SELECT migr_merge();
\echo :SQLSTATE

-- a merge is applied and reverted like any revision, running nothing
SELECT step, replace(revision, :'merge_id', '<merge>') AS revision, statement
  FROM migr_plan('head');
SELECT replace(revision, :'merge_id', '<merge>') AS revision, message FROM migr_upgrade('head');
SELECT replace(revision, :'merge_id', '<merge>') AS revision, message FROM migr_downgrade('mab');
SELECT replace(revision, :'merge_id', '<merge>') AS revision, message FROM migr_upgrade('head');
-- an applied merge is protected like any revision
SELECT migr_merge(ARRAY['alpha1', 'gamma2'], 'merge alpha and beta', 'mab');
\echo :SQLSTATE

-- clean up
SELECT replace(revision, :'merge_id', '<merge>') AS revision FROM migr_downgrade('base');
DROP EXTENSION migr;
CREATE EXTENSION migr;
