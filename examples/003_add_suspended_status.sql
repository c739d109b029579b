-- migr:revision 9c41e7f08a3d
-- migr:down_revision 5b8e2d4a6c90
-- migr:message add suspended user status (irreversible: PostgreSQL cannot drop an enum value)
--
-- There is no downgrade section on purpose: PostgreSQL has no
-- ALTER TYPE ... DROP VALUE, and rebuilding the type would need every row
-- using 'suspended' rewritten first.  migr refuses to downgrade through this
-- revision (SQLSTATE MG004) instead of pretending it can.
-- migr:upgrade
ALTER TYPE user_status ADD VALUE 'suspended';
