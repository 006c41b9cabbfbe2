-- Up Migration
-- Issue 11: bulk writes into the ledger (a 1M-line import) at set cost. Same audit rows, same
-- dirty markers, same notifications, same CHECKs; measured in docs/BENCHMARKS.md "Bulk ledger
-- writes (import)".
--  * fifo_fact_json gets a SQL-standard body: not pinned (009 leaves bound bodies alone, their
--    names are resolved here), so the planner inlines it instead of calling it, with a
--    search_path switch, once per fact. STABLE because it is (a timestamptz's text depends on
--    TimeZone): an IMMUTABLE body over a STABLE call would not be inlined.
--  * the ledger trigger groups the audited rows per symbol (earliest time, latest audit id)
--    before fifo_mark_dirty, which grouped them anyway, instead of handing it one array element
--    per fact.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- Owner-rights functions below capture this path (FROM CURRENT): the schema, pg_temp last.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

-- What this migration replaces, as it was: the down puts it back (018's pattern).
CREATE TABLE fifo_020_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_020_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid IN ('fifo_record_fact_changes()'::regprocedure,
                 'fifo_fact_json(text, text, text, numeric, numeric, numeric, timestamptz, text, text, text)'::regprocedure)
UNION ALL
SELECT 'constraint ' || conname, format('ALTER TABLE trade_records ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
  FROM pg_constraint WHERE conrelid = 'trade_records'::regclass AND conname = 'trade_records_symbol_must_be_base_dash_quote';

-- The same symbol rule (BASE-QUOTE, each 1 to 32 of A-Z a-z 0-9 . _) without the counted
-- repetitions, which cost PostgreSQL's regex engine 2 s per million rows (0.4 s this way):
-- the classes hold no '-', so there is exactly one, and its position bounds both parts.
-- Validated as before: a constraint an adopted table was violating stays NOT VALID.
DO $symbol$
DECLARE
  validated boolean;
BEGIN
  SELECT convalidated INTO validated FROM pg_constraint
   WHERE conrelid = 'trade_records'::regclass AND conname = 'trade_records_symbol_must_be_base_dash_quote';
  IF validated IS NULL THEN RETURN; END IF;
  ALTER TABLE trade_records DROP CONSTRAINT trade_records_symbol_must_be_base_dash_quote;
  ALTER TABLE trade_records ADD CONSTRAINT trade_records_symbol_must_be_base_dash_quote
    CHECK (symbol ~ '^[A-Za-z0-9._]+-[A-Za-z0-9._]+$' AND strpos(symbol, '-') <= 33 AND length(symbol) - strpos(symbol, '-') <= 32) NOT VALID;
  IF validated THEN
    ALTER TABLE trade_records VALIDATE CONSTRAINT trade_records_symbol_must_be_base_dash_quote;
  END IF;
END
$symbol$;

CREATE OR REPLACE FUNCTION fifo_fact_json(order_id text, symbol text, side text, size numeric, price numeric,
  total_fees_usd numeric, order_time timestamptz, source text, trigger text, account text)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object('order_id', order_id, 'symbol', symbol, 'side', side, 'size', size,
    'price', price, 'total_fees_usd', total_fees_usd, 'order_time', order_time,
    'source', source, 'trigger', trigger, 'account', account);

-- 018's ledger trigger; fifo_mark_dirty gets one element per symbol.
CREATE OR REPLACE FUNCTION fifo_record_fact_changes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  symbols text[];
  affected timestamptz[];
  audit_ids bigint[];
  -- who changed the fact: the role in effect (SET ROLE), else the login; not the owner
  -- this function runs as
  actor constant text := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, new_fact, changed_by)
      SELECT 'INSERT', n.symbol, n.order_id, fifo_utc(n.order_time), fifo_fact_json(n.order_id, n.symbol, n.side,
               n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, fifo_utc(n.order_time), n.source, n.trigger, n.account), actor
        FROM new_rows n
      RETURNING symbol, affected_time, audit_id),
    per_symbol AS (
      SELECT symbol, min(affected_time) AS affected_time, max(audit_id) AS audit_id FROM audited GROUP BY symbol)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM per_symbol;
  ELSIF TG_OP = 'DELETE' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, changed_by)
      SELECT 'DELETE', o.symbol, o.order_id, fifo_utc(o.order_time), fifo_fact_json(o.order_id, o.symbol, o.side,
               o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, fifo_utc(o.order_time), o.source, o.trigger, o.account), actor
        FROM old_rows o
      RETURNING symbol, affected_time, audit_id),
    per_symbol AS (
      SELECT symbol, min(affected_time) AS affected_time, max(audit_id) AS audit_id FROM audited GROUP BY symbol)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM per_symbol;
  ELSE
    -- order_id cannot change (trade_records_order_id_immutable), so old and new pair on it.
    -- An update that leaves every fact column alone (e.g. a legacy bot writing its own
    -- computed columns on an adopted table) is not a fact change.
    WITH pairs AS (
      SELECT o.order_id, o.symbol AS old_symbol, n.symbol, least(fifo_utc(o.order_time), fifo_utc(n.order_time)) AS affected_time,
             fifo_fact_json(o.order_id, o.symbol, o.side, o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, fifo_utc(o.order_time), o.source, o.trigger, o.account) AS old_fact,
             fifo_fact_json(n.order_id, n.symbol, n.side, n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, fifo_utc(n.order_time), n.source, n.trigger, n.account) AS new_fact
        FROM old_rows o JOIN new_rows n USING (order_id)
    ), audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, new_fact, changed_by)
      SELECT 'UPDATE', symbol, order_id, affected_time, old_fact, new_fact, actor
        FROM pairs WHERE old_fact IS DISTINCT FROM new_fact
      RETURNING symbol, affected_time, audit_id, old_fact ->> 'symbol' AS old_symbol
    ), touched AS (
      SELECT symbol, affected_time, audit_id FROM audited
      UNION ALL  -- a fact moved to another symbol dirties the one it left too
      SELECT old_symbol, affected_time, audit_id FROM audited WHERE old_symbol <> symbol
    ), per_symbol AS (
      SELECT symbol, min(affected_time) AS affected_time, max(audit_id) AS audit_id FROM touched GROUP BY symbol)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM per_symbol;
  END IF;
  PERFORM fifo_mark_dirty(symbols, affected, audit_ids);
  RETURN NULL;
END $$;

SELECT fifo_apply_security();

-- Down Migration
-- What 018 defined, as it was before this migration.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $restore$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM fifo_020_replaced LOOP
    IF r.name LIKE 'constraint %' THEN
      EXECUTE format('ALTER TABLE trade_records DROP CONSTRAINT IF EXISTS %I', substr(r.name, length('constraint ') + 1));
    END IF;
    EXECUTE r.definition;
  END LOOP;
END
$restore$;
DROP TABLE fifo_020_replaced;
SELECT fifo_apply_security();
