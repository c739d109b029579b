--
-- migr_load(): revisions from the text of revision files (README, "Revision files").
--

-- every directive
SELECT migr_load($file$-- migr:revision f1
-- migr:message create the users table
--
-- Any comment may come before the scripts.

-- migr:branch_labels users
-- migr:kind schema
-- migr:upgrade
CREATE TABLE load_users (id int PRIMARY KEY, email text);
-- migr:downgrade
DROP TABLE load_users;
$file$);
SELECT revision, down_revision, depends_on, branch_labels, message, kind,
       upgrade, downgrade
  FROM migr_show('f1');

SELECT migr_load($file$-- migr:revision f2
-- migr:down_revision base
-- migr:message   padded message, trailing blanks dropped   
-- migr:upgrade
CREATE TABLE load_f2 (a int);
-- migr:downgrade
DROP TABLE load_f2;
$file$);
SELECT migr_load($file$-- migr:revision f3
-- migr:down_revision f1 f2
-- migr:depends_on   f2   f1
-- migr:branch_labels  lab3 lab3b
-- migr:kind data
-- migr:message a merge that moves data
-- migr:upgrade
INSERT INTO load_users VALUES (1, 'a@example.com');
$file$);
SELECT revision, down_revision, depends_on, branch_labels, message, kind,
       upgrade, downgrade IS NULL AS irreversible
  FROM migr_show('f2') UNION ALL
SELECT revision, down_revision, depends_on, branch_labels, message, kind,
       upgrade, downgrade IS NULL
  FROM migr_show('f3');
-- the message directive with no text: an empty message
SELECT migr_load(E'-- migr:revision f4\n-- migr:down_revision f3\n-- migr:message\n-- migr:upgrade\nSELECT 1;\n');
SELECT message = '' AS empty_message FROM migr_show('f4');

-- loading the same file again is a no-op; a changed file replaces an
-- unapplied revision, with a NOTICE
SELECT migr_load(E'-- migr:revision f4\n-- migr:down_revision f3\n-- migr:message\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision f4\n-- migr:down_revision f3\n-- migr:message\n-- migr:upgrade\nSELECT 2;\n');
-- the revisions it defines run as any other
SELECT revision, message FROM migr_upgrade('head');
SELECT * FROM load_users;
-- and an applied one is protected
SELECT migr_load(E'-- migr:revision f4\n-- migr:down_revision f3\n-- migr:message\n-- migr:upgrade\nSELECT 3;\n');
\echo :SQLSTATE

--
-- lines that only look like directives because they sit in a string, a
-- dollar-quoted body, a quoted identifier or a block comment are part of the
-- script
--
SELECT migr_load($file$-- migr:revision q1
-- migr:down_revision f4
-- migr:upgrade
CREATE TABLE load_q1 (a text DEFAULT 'first line
-- migr:downgrade
-- migr:revision not_me
last line');
COMMENT ON TABLE load_q1 IS E'it\'s
-- migr:downgrade
escaped';
CREATE FUNCTION load_q1_f() RETURNS text LANGUAGE sql AS $$
-- migr:downgrade
SELECT 'dollar'
$$;
CREATE FUNCTION load_q1_g() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
-- migr:downgrade
RETURN $inner$
-- migr:upgrade
$inner$;
END
$body$;
CREATE TABLE "load_q1
-- migr:downgrade
ident" (a int);
/*
-- migr:downgrade
/* nested
-- migr:downgrade
*/
-- migr:downgrade
*/
SELECT 1;
-- migr:downgrade
DROP TABLE "load_q1
-- migr:downgrade
ident";
DROP FUNCTION load_q1_g();
DROP FUNCTION load_q1_f();
DROP TABLE load_q1;
$file$);
SELECT upgrade FROM migr_show('q1');
SELECT downgrade FROM migr_show('q1');
SELECT revision FROM migr_upgrade('q1');
SELECT column_default FROM information_schema.columns WHERE table_name = 'load_q1';
SELECT obj_description('load_q1'::regclass, 'pg_class');
SELECT load_q1_f(), load_q1_g();
SELECT count(*) FROM pg_class WHERE relname = E'load_q1\n-- migr:downgrade\nident';
SELECT revision FROM migr_downgrade('f4');
SELECT count(*) FROM pg_class WHERE relname LIKE 'load_q1%';

-- CRLF line endings: directives are read without the CR, scripts are kept
-- byte for byte but for the white space that ends a section
SELECT migr_load(E'-- migr:revision crlf\r\n-- migr:down_revision f4\r\n-- migr:message with CRLF\r\n-- migr:upgrade\r\nCREATE TABLE load_crlf (a int);\r\n-- migr:downgrade\r\nDROP TABLE load_crlf;\r\n');
SELECT revision, down_revision, message, message LIKE E'%\r%' AS message_has_cr,
       upgrade = E'CREATE TABLE load_crlf (a int);' AS upgrade_kept,
       downgrade = E'DROP TABLE load_crlf;' AS downgrade_kept
  FROM migr_show('crlf');
SELECT revision FROM migr_upgrade('crlf');
SELECT to_regclass('load_crlf') IS NOT NULL AS created;
-- a file without a final newline
SELECT migr_load(E'-- migr:revision nonl\n-- migr:down_revision crlf\n-- migr:upgrade\nCREATE TABLE load_nonl (a int)');
SELECT upgrade FROM migr_show('nonl');

--
-- errors: each names the line and what is wrong
--
-- an unknown directive, usually a typo
SELECT migr_load(E'-- migr:revision x1\n-- migr:down_revison f4\n-- migr:upgrade\nSELECT 1;\n');
\echo :SQLSTATE
SELECT migr_load(E'-- migr:Revision x1\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:\n-- migr:upgrade\nSELECT 1;\n');
-- also inside a script
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT 1;\n-- migr:downgarde\nSELECT 2;\n');
-- SQL before the upgrade section
SELECT migr_load(E'-- migr:revision x1\nCREATE TABLE load_x1 (a int);\n-- migr:upgrade\nSELECT 1;\n');
\echo :SQLSTATE
SELECT migr_load(E'-- migr:revision x1\n/* a comment */ SELECT 1;\n-- migr:upgrade\nSELECT 1;\n');
-- no revision directive, or a bad one
SELECT migr_load(E'-- migr:message no id\n-- migr:upgrade\nSELECT 1;\n');
\echo :SQLSTATE
SELECT migr_load(E'-- migr:revision\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision x1 x2\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision head\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load('');
-- no upgrade section
SELECT migr_load(E'-- migr:revision x1\n-- migr:message nothing else\n');
\echo :SQLSTATE
SELECT migr_load(E'-- migr:revision x1\n-- migr:downgrade\nSELECT 1;\n');
-- a directive given twice
SELECT migr_load(E'-- migr:revision x1\n-- migr:message one\n-- migr:message two\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:revision x2\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT 1;\n-- migr:upgrade\nSELECT 2;\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrade\nSELECT 2;\n-- migr:downgrade\nSELECT 3;\n');
-- the downgrade section before the upgrade section
SELECT migr_load(E'-- migr:revision x1\n-- migr:downgrade\nSELECT 2;\n-- migr:upgrade\nSELECT 1;\n');
-- text after the section directive, on the same line
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade CREATE TABLE load_x1 (a int);\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrade DROP TABLE x;\n');
-- a header directive after the upgrade section started
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT 1;\n-- migr:message too late\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrade\nSELECT 2;\n-- migr:down_revision f4\n');
-- what migr_define() refuses is refused here too, naming the revision
SELECT migr_load(E'-- migr:revision x1\n-- migr:kind ddl\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nBEGIN;\nSELECT 1;\nCOMMIT;\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:down_revision base f4\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision x1\n-- migr:branch_labels users\n-- migr:upgrade\nSELECT 1;\n');
-- an unterminated quote hides the rest of the file: no downgrade section,
-- and the script does not parse.  (Caught in a function only to show the
-- SQLSTATE and the context line that names the revision on one line.)
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    st text;
    msg text;
    ctx text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            ctx = PG_EXCEPTION_CONTEXT;
    RETURN st || ': ' || msg || ' (' || split_part(ctx, E'\n', 1) || ')';
END
$f$;
SELECT pg_temp.try($$SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT ''oops;\n-- migr:downgrade\nSELECT 2;\n')$$);
SELECT pg_temp.try($$SELECT migr_load(E'-- migr:revision x1\n-- migr:upgrade\nSELECT 1;\nSELEC 2;\n')$$);
SELECT migr_load(NULL);
\echo :SQLSTATE
SELECT count(*) FROM migr.revision WHERE id LIKE 'x%';

-- a file larger than two scripts can be is refused before it is read
SELECT migr_load('-- migr:revision big' || repeat(' ', 33554432));
\echo :SQLSTATE

-- a dollar-quote tag of any length (the server's lexer sets no limit): a
-- directive line inside its body is script text, never a section line
SELECT migr_load(format(E'-- migr:revision dq1\n-- migr:upgrade\nCREATE FUNCTION load_dq1() RETURNS text LANGUAGE sql AS $%1$s$\n-- migr:downgrade\nSELECT %2$L\n$%1$s$;\n-- migr:downgrade\nDROP FUNCTION load_dq1();\n',
                        't' || repeat('x', 200), 'DROP TABLE would run here'));
SELECT length(upgrade) AS upgrade_length, upgrade LIKE '%-- migr:downgrade%' AS directive_in_body,
       downgrade FROM migr.revision WHERE id = 'dq1';
-- the same with a tag as long as a script allows
SELECT migr_load(format(E'-- migr:revision dq2\n-- migr:upgrade\nSELECT $%1$s$\n-- migr:downgrade\n$%1$s$;\n', repeat('y', 100000)));
SELECT length(upgrade), downgrade IS NULL AS irreversible FROM migr.revision WHERE id = 'dq2';

-- a marker revision: an upgrade of nothing but comments is accepted
SELECT migr_load(E'-- migr:revision mk1\n-- migr:down_revision f4\n-- migr:upgrade\n-- release 2.0\n-- migr:downgrade\n');
SELECT upgrade, downgrade FROM migr.revision WHERE id = 'mk1';

-- clean up
SELECT revision FROM migr_downgrade('f4');
SELECT revision FROM migr_current();

-- directives written almost right are errors, not silent comments
SELECT migr_load(E'-- migr:revision nm1\n--migr:down_revision f1\n-- migr:upgrade\nSELECT 1;\n');
\echo :SQLSTATE
SELECT migr_load(E'-- migr:revision nm1\n  -- migr:down_revision f1\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_load(E'-- migr:revision nm1\n-- MIGR:down_revision f1\n-- migr:upgrade\nSELECT 1;\n');
-- ... but not inside a script's string
SELECT migr_load(E'-- migr:revision nm1\n-- migr:upgrade\nSELECT \'\n--migr:x\n\';\n');
-- a UTF-8 byte order mark is ignored
SELECT migr_load(E'\xef\xbb\xbf-- migr:revision bom1\n-- migr:upgrade\nSELECT 1;\n'::text);
SELECT migr_load(convert_from('\xefbbbf2d2d206d6967723a7265766973696f6e20626f6d310a2d2d206d6967723a757067726164650a53454c45435420313b0a'::bytea, 'UTF8'));
DROP TABLE load_users, load_f2;
DROP EXTENSION migr;
CREATE EXTENSION migr;
