-- truth: safe
-- why: a valid CHECK (customer_id IS NOT NULL) already exists: no scan
ALTER TABLE invoices ALTER COLUMN customer_id SET NOT NULL;
