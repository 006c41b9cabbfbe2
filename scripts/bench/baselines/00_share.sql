-- Shared by both baselines: a fee share by cumulative rounding (docs/CONTRACT.md §5.4, issue 7).
--   share_k = round(fee × cum_k / size, 18) − round(fee × cum_{k−1} / size, 18)
-- round(x, 18) is half away from zero in PostgreSQL, but `fee * cum / size` is a numeric
-- division that stops at about 16 significant digits (select_div_scale), so rounding its
-- result at 18 would round an already rounded number. For fee, cum, size >= 0 this computes
-- round(fee × cum / size, 18) exactly, as integer division: floor((2·a·10^18 + b) / (2·b)) · 10^−18.
-- LANGUAGE sql, IMMUTABLE, one expression: the planner inlines it into the calling query.
CREATE OR REPLACE FUNCTION bench_round_share(fee numeric, cum numeric, size numeric)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN fee = 0 OR cum = 0 THEN 0::numeric
              WHEN cum = size THEN fee  -- the whole fee (fees have at most 18 decimals)
              ELSE div(2 * fee * cum * 1e18 + size, 2 * size) * 1e-18 END
$$;
