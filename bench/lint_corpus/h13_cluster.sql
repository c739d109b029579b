-- truth: hazard
-- why: rewrites 300k rows under ACCESS EXCLUSIVE
CLUSTER events USING events_pkey;
