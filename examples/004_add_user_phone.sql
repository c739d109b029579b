-- migr:revision c27d5a1e9b64
-- migr:down_revision 9c41e7f08a3d
-- migr:message add phone to users
-- migr:upgrade
ALTER TABLE users ADD COLUMN phone text NOT NULL DEFAULT '';
-- migr:downgrade
ALTER TABLE users DROP COLUMN phone;
