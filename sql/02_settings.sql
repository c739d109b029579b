--
-- The migr.* settings: defaults, valid and invalid values, and their effect
-- on the statements of a migration.
--

-- migr need not be preloaded: load it so that its settings exist
LOAD 'migr';

-- the lock policy's defaults (changed in 1.1: 5s / 3 retries before)
SHOW migr.lock_timeout;
SHOW migr.lock_deadline;
SHOW migr.lock_retries;
SHOW migr.retry_delay;
SHOW migr.max_retry_delay;
SHOW migr.statement_timeout;
SHOW migr.forward_only;

SELECT name, setting, unit, context, vartype, min_val, max_val
  FROM pg_settings
 WHERE name IN ('migr.lock_timeout', 'migr.lock_retries', 'migr.retry_delay',
                'migr.statement_timeout', 'migr.forward_only',
                'migr.lock_deadline', 'migr.max_retry_delay')
 ORDER BY name;

-- valid values
SET migr.lock_timeout = '2s';
SHOW migr.lock_timeout;
SET migr.lock_timeout = 250;
SHOW migr.lock_timeout;
SET migr.retry_delay = '1min';
SHOW migr.retry_delay;
SET migr.lock_retries = 0;
SHOW migr.lock_retries;
SET migr.lock_retries = -1;
SHOW migr.lock_retries;
SET migr.lock_deadline = '30s';
SHOW migr.lock_deadline;
SET migr.lock_deadline = 0;
SHOW migr.lock_deadline;
SET migr.max_retry_delay = '10s';
SHOW migr.max_retry_delay;
SET migr.statement_timeout = '10s';
SHOW migr.statement_timeout;
SET migr.forward_only = on;
SHOW migr.forward_only;
RESET ALL;
SHOW migr.lock_timeout;
SHOW migr.retry_delay;
SHOW migr.lock_retries;
SHOW migr.lock_deadline;
SHOW migr.max_retry_delay;
SHOW migr.statement_timeout;
SHOW migr.forward_only;

-- invalid values
SET migr.lock_timeout = -1;
SET migr.lock_timeout = 'soon';
SET migr.lock_timeout = '5 parsecs';
SET migr.retry_delay = -5;
SET migr.lock_retries = -2;
SET migr.lock_retries = 1001;
SET migr.lock_retries = 'many';
SET migr.lock_deadline = -1;
SET migr.lock_deadline = 'never';
SET migr.max_retry_delay = '-1s';
SET migr.statement_timeout = '-1s';
SET migr.forward_only = 'maybe';
-- the prefix is reserved: a misspelt setting is an error, not a placeholder
SET migr.lock_timeuot = '1s';
\echo :SQLSTATE
-- nothing changed
SHOW migr.lock_timeout;
SHOW migr.lock_retries;
SHOW migr.lock_deadline;

-- forward_only can only be changed by a superuser
CREATE ROLE migr_settings_user NOLOGIN;
SET ROLE migr_settings_user;
SET migr.forward_only = off;
\echo :SQLSTATE
SET migr.lock_timeout = '1s';
SHOW migr.lock_timeout;
RESET ROLE;
RESET migr.lock_timeout;
DROP ROLE migr_settings_user;

--
-- The settings apply to each statement of a migration, and the session's
-- own settings are as they were afterwards.
--
CREATE TABLE settings_seen (what text, value text);
SELECT migr_define('set1', NULL, $$
INSERT INTO settings_seen VALUES ('lock_timeout', current_setting('lock_timeout'));
INSERT INTO settings_seen VALUES ('statement_timeout', current_setting('statement_timeout'));
$$, 'DELETE FROM settings_seen', kind => 'data');
SET migr.lock_timeout = '1234ms';
SELECT revision FROM migr_upgrade('head');
SELECT * FROM settings_seen;
SHOW lock_timeout;
SHOW statement_timeout;
SELECT revision FROM migr_downgrade('base');

-- lock_timeout 0 leaves the session's lock_timeout alone
SET migr.lock_timeout = 0;
SET lock_timeout = '42s';
SELECT revision FROM migr_upgrade('head');
SELECT * FROM settings_seen;
SHOW lock_timeout;
SELECT revision FROM migr_downgrade('base');
RESET lock_timeout;
RESET migr.lock_timeout;

-- statement_timeout bounds each statement of a migration
SELECT migr_define('set2', '{set1}', 'SELECT pg_sleep(5)', 'SELECT 1');
SET migr.statement_timeout = '100ms';
SELECT revision FROM migr_upgrade('head');
\echo :SQLSTATE
SELECT revision FROM migr_current();
SHOW statement_timeout;
-- a shorter session statement_timeout is not extended by a longer migr one
SET migr.statement_timeout = '1h';
SET statement_timeout = '100ms';
SELECT revision FROM migr_upgrade('head');
\echo :SQLSTATE
RESET statement_timeout;
RESET migr.statement_timeout;
SELECT revision FROM migr_current();

-- clean up
DROP TABLE settings_seen;
DROP EXTENSION migr;
CREATE EXTENSION migr;
