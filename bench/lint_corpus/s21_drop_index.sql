-- truth: safe
-- why: dropping an index is instant; its ACCESS EXCLUSIVE wait is bounded by migr.lock_timeout with retries
DROP INDEX accounts_code_idx;
