-- migr:revision 1f3a9c0b7d21
-- migr:message create users table
--
-- The root of the history: the application's user accounts.
-- migr:upgrade
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- migr:downgrade
DROP TABLE users;
