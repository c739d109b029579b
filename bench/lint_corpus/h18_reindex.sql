-- truth: hazard
-- why: rebuilds every index of a 300k-row table while blocking writes
REINDEX TABLE events;
