-- migr:revision e6f0b3c8d152
-- migr:down_revision 9c41e7f08a3d
-- migr:branch_labels audit
-- migr:message create audit_log
--
-- Starts the "audit" branch next to 004: two heads until 006 merges them.
-- migr:upgrade
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    action text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}',
    logged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_user_id_idx ON audit_log (user_id);
-- migr:downgrade
DROP TABLE audit_log;
