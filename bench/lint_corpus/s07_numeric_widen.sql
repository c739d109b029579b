-- truth: safe
-- why: more precision, same scale: no rewrite
ALTER TABLE invoices ALTER COLUMN total TYPE numeric(14,2);
