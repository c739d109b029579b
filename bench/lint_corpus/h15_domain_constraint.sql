-- truth: hazard
-- why: checks every accounts.email value while blocking writes
ALTER DOMAIN email_text ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
