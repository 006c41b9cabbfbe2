-- Up Migration
-- fifo_validate (issue 12) needs no engine: two SELECTs on v_allocation_discrepancies. It
-- becomes a plain SQL function, so it works without PLV8 and is no longer part of the bundle.
-- It replaces the PLV8 function of an older bundle or the stand-in of 009 (same signature and
-- result type), and its own comment keeps installProcedures() from taking it for either: that
-- drops functions commented 'fifo-ledger bundle <id>' and keeps 'fifo-ledger stand-in: …' in step.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- Result (as the PLV8 procedure gave it): { ok, count, byCheck: { check_name: n },
-- discrepancies: the first max_rows rows (NULL: 1000) by check, symbol and order id }.
-- A NULL version checks every version; a version that does not exist or a negative max_rows
-- is an error naming it (22023), not an empty "ok".
CREATE OR REPLACE FUNCTION fifo_validate(allocation_version int, max_rows int) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
  by_check jsonb;
  n bigint;
BEGIN
  IF allocation_version IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM fifo_allocation_versions v WHERE v.allocation_version = fifo_validate.allocation_version) THEN
    RAISE EXCEPTION 'fifo_validate: allocation version % does not exist (see fifo_allocation_versions)', allocation_version
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_rows < 0 THEN
    RAISE EXCEPTION 'fifo_validate: max_rows must be 0 or more, got %', max_rows USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT coalesce(jsonb_object_agg(c.check_name, c.n ORDER BY c.check_name), '{}'::jsonb), coalesce(sum(c.n), 0)
    INTO by_check, n
    FROM (SELECT d.check_name, count(*) AS n FROM v_allocation_discrepancies d
           WHERE fifo_validate.allocation_version IS NULL OR d.allocation_version = fifo_validate.allocation_version
              OR d.allocation_version IS NULL
           GROUP BY d.check_name) c;
  RETURN jsonb_build_object('ok', n = 0, 'count', n, 'byCheck', by_check, 'discrepancies',
    CASE WHEN n = 0 THEN '[]'::jsonb ELSE (
      SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.check_name, x.symbol, x.order_id), '[]'::jsonb)
        FROM (SELECT d.allocation_version, d.symbol, d.order_id, d.check_name, d.expected, d.actual, d.details
                FROM v_allocation_discrepancies d
               WHERE fifo_validate.allocation_version IS NULL OR d.allocation_version = fifo_validate.allocation_version
                  OR d.allocation_version IS NULL
               ORDER BY d.check_name, d.symbol, d.order_id
               LIMIT coalesce(max_rows, 1000)) x) END);
END $$;
COMMENT ON FUNCTION fifo_validate(int, int) IS 'fifo-ledger: SQL function (migration 014)';
-- Pinned and granted as fifo_apply_security() (009) does it, before anyone can call it; the
-- reader too (read-only, and `fifo validate` is a read-only command), as the Node host let it.
DO $pin$
BEGIN
  EXECUTE format('ALTER FUNCTION fifo_validate(int, int) SET search_path = %I, pg_temp', current_schema());
END
$pin$;
REVOKE ALL ON FUNCTION fifo_validate(int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION fifo_validate(int, int) TO fifo_engine, fifo_reader;

-- Down Migration
-- Where PLV8 is missing, 009's stand-in comes back; where it exists, installProcedures() of
-- the previous release re-creates its PLV8 fifo_validate (its bundle has it).
DROP FUNCTION IF EXISTS fifo_validate(int, int);
DO $stand_in$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_language WHERE lanname = 'plv8') OR to_regprocedure('fifo_plv8_missing(text, text)') IS NULL THEN
    RETURN;
  END IF;
  CREATE FUNCTION fifo_validate(allocation_version int, max_rows int) RETURNS jsonb LANGUAGE plpgsql AS $body$
    BEGIN PERFORM fifo_plv8_missing('fifo_validate', 'PLV8'); RETURN NULL; END $body$;
  COMMENT ON FUNCTION fifo_validate(int, int) IS 'fifo-ledger stand-in: PLV8 is not installed';
  EXECUTE format('ALTER FUNCTION fifo_validate(int, int) SET search_path = %I, pg_temp', current_schema());
  REVOKE ALL ON FUNCTION fifo_validate(int, int) FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION fifo_validate(int, int) TO fifo_engine;
END
$stand_in$;
