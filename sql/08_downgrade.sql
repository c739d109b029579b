--
-- migr_downgrade(): what is reverted (descendants of the target, children
-- first, other branches left alone), irreversible revisions, forward_only.
--
-- Settings of features that come later (lint, data operations) are turned
-- off where they exist, so that this file's output does not depend on them.
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

CREATE TABLE down_order (n serial, revision text);
CREATE FUNCTION pg_temp.rev(id text, parents text[], reversible boolean DEFAULT true)
RETURNS text LANGUAGE sql AS $f$
    SELECT migr_define(id, parents,
        format('INSERT INTO down_order (revision) VALUES (%L)', id),
        CASE WHEN reversible
             THEN format('INSERT INTO down_order (revision) VALUES (%L)', '-' || id) END,
        'rev ' || id, kind => 'data')
$f$;

-- r <- a1 <- a2, r <- b1 <- b2
SELECT pg_temp.rev('r', NULL);
SELECT pg_temp.rev('a1', '{r}');
SELECT pg_temp.rev('a2', '{a1}');
SELECT pg_temp.rev('b1', '{r}');
SELECT pg_temp.rev('b2', '{b1}');
SELECT revision FROM migr_upgrade('heads');

-- to an id: only what descends from it; the other branch is left alone
TRUNCATE down_order;
SELECT revision, message, ms IS NOT NULL AS timed FROM migr_downgrade('a1');
SELECT revision FROM down_order ORDER BY n;
SELECT revision FROM migr_current() ORDER BY revision;
-- the target itself must be applied
SELECT revision FROM migr_downgrade('a2');
\echo :SQLSTATE
-- nothing above it: nothing to do
SELECT revision FROM migr_downgrade('b2');
SELECT revision FROM migr_downgrade('heads');
SELECT revision FROM migr_downgrade('a1');
-- by steps
SELECT revision FROM migr_downgrade('b2-1');
SELECT revision FROM migr_downgrade('-1');
\echo :SQLSTATE
SELECT revision FROM migr_downgrade('a1-1');
SELECT revision FROM migr_current() ORDER BY revision;
-- to base, everything, children first
SELECT revision FROM migr_upgrade('heads');
TRUNCATE down_order;
SELECT revision FROM migr_downgrade('base');
SELECT revision FROM down_order ORDER BY n;
SELECT count(*) FROM migr.applied;
SELECT revision FROM migr_downgrade('base');

-- a merge of the two branches: reverting one branch reverts the merge too
SELECT pg_temp.rev('m', '{a2,b2}');
SELECT revision FROM migr_upgrade('head');
TRUNCATE down_order;
SELECT revision FROM migr_downgrade('b1');
SELECT revision FROM down_order ORDER BY n;
SELECT revision FROM migr_current() ORDER BY revision;
SELECT revision FROM migr_upgrade('head');

--
-- an irreversible revision stops the downgrade before anything is
-- reverted (MG004)
--
SELECT pg_temp.rev('i1', '{m}', false);
SELECT pg_temp.rev('i2', '{i1}');
SELECT revision FROM migr_upgrade('head');
SELECT revision FROM migr_show('i1') WHERE downgrade IS NULL;
TRUNCATE down_order;
SELECT count(*) AS log_before FROM migr.log;
SELECT revision FROM migr_downgrade('m');
\echo :SQLSTATE
SELECT revision FROM migr_downgrade('base');
\echo :SQLSTATE
SELECT revision FROM migr_plan('base', 'downgrade');
\echo :SQLSTATE
-- nothing was reverted or logged
SELECT count(*) FROM down_order;
SELECT count(*) AS log_after FROM migr.log;
SELECT revision FROM migr_current();
-- above it, all is fine
SELECT revision FROM migr_downgrade('i1');
SELECT revision FROM migr_upgrade('head');

--
-- a downgrade script that fails rolls the whole call back
--
SELECT migr_define('bad', '{i2}', 'CREATE TABLE down_bad (a int)',
                   E'DROP TABLE down_bad;\nDROP TABLE down_no_such_table;', 'bad downgrade');
SELECT migr_define('top', '{bad}', 'CREATE TABLE down_top (a int)', 'DROP TABLE down_top');
SELECT revision FROM migr_upgrade('head');
SELECT revision FROM migr_downgrade('i2');
\echo :SQLSTATE
SELECT to_regclass('down_top') IS NOT NULL AS top, to_regclass('down_bad') IS NOT NULL AS bad;
SELECT revision FROM migr_current();
-- reverting only the revision above it works
SELECT revision FROM migr_downgrade('bad');
SELECT to_regclass('down_top') IS NOT NULL AS top;

-- an edited downgrade script is never run (MG002)
UPDATE migr.revision SET downgrade = 'DROP TABLE down_bad' WHERE id = 'bad';
SELECT revision FROM migr_downgrade('i2');
\echo :SQLSTATE
UPDATE migr.revision SET downgrade = E'DROP TABLE down_bad;\nDROP TABLE down_no_such_table;'
 WHERE id = 'bad';

--
-- migr.forward_only refuses every downgrade, before anything is done
--
SET migr.forward_only = on;
SELECT revision FROM migr_downgrade('i2');
\echo :SQLSTATE
SELECT revision FROM migr_downgrade('base');
SELECT revision FROM migr_downgrade('no_such_revision');
-- upgrades, stamps and plans are not downgrades
SELECT revision FROM migr_upgrade('head');
SELECT count(*) > 0 AS planned FROM migr_plan('i1', 'downgrade');
RESET migr.forward_only;
SELECT revision FROM migr_current();

-- clean up: everything above the irreversible revision, then stamp
SELECT revision FROM migr_stamp('base');
DROP TABLE down_order, down_bad;
DROP EXTENSION migr;
CREATE EXTENSION migr;
