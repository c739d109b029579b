-- migr:revision 5b8e2d4a6c90
-- migr:down_revision 1f3a9c0b7d21
-- migr:message add status to users
--
-- A constant default: PostgreSQL 11+ adds the column without rewriting the
-- table, and existing rows read as 'active'.
-- migr:upgrade
CREATE TYPE user_status AS ENUM ('active', 'disabled');
ALTER TABLE users ADD COLUMN status user_status NOT NULL DEFAULT 'active';
-- migr:downgrade
ALTER TABLE users DROP COLUMN status;
DROP TYPE user_status;
