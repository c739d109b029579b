-- bench/history.sh: the empty function, with migr_upgrade()'s signature
CREATE FUNCTION floor_upgrade(
    target text DEFAULT 'head',
    OUT revision text, OUT message text, OUT ms double precision)
RETURNS SETOF record
AS '$libdir/migr_bench_floor', 'floor_upgrade'
LANGUAGE C VOLATILE;
