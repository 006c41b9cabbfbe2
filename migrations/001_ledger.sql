-- Up Migration
-- The ledger of facts (docs/CONTRACT.md §2): trade_records, its append-only audit trail, and the
-- adoption of a pre-existing trade_records with legacy computed columns (docs/CONTRACT.md §7).
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

CREATE TABLE fifo_adoption (
  adopted_at      timestamptz NOT NULL DEFAULT now(),
  legacy_rows     bigint NOT NULL,
  legacy_columns  text[] NOT NULL,   -- columns outside the contract, kept untouched
  added_columns   text[] NOT NULL,   -- contract columns the legacy table lacked
  added_objects   text[] NOT NULL DEFAULT '{}'  -- indexes this migration created on it
);
COMMENT ON TABLE fifo_adoption IS
  'One row when trade_records existed before fifo-ledger: migrate down never drops that table.';

DO $adopt$
DECLARE
  contract  constant text[] := ARRAY['order_id','symbol','side','size','price','total_fees_usd','order_time','source','trigger'];
  required  constant text[] := ARRAY['order_id','symbol','side','size','price','order_time'];
  cols      text[];
  missing   text[];
  added     text[] := '{}';
  objects   text[] := '{}';
  nrows     bigint;
  has_key   boolean;
BEGIN
  SELECT array_agg(column_name::text ORDER BY ordinal_position) INTO cols
    FROM information_schema.columns
   WHERE table_schema = current_schema() AND table_name = 'trade_records';

  IF cols IS NULL THEN
    CREATE TABLE trade_records (
      order_id        text PRIMARY KEY,
      symbol          text NOT NULL,
      side            text NOT NULL,
      size            numeric NOT NULL,
      price           numeric NOT NULL,
      total_fees_usd  numeric NOT NULL DEFAULT 0,
      order_time      timestamptz NOT NULL,
      source          text,
      trigger         text
    );
    RETURN;
  END IF;

  -- Adoption: keep every row and every column; add only what the contract needs.
  SELECT array_agg(c) INTO missing FROM unnest(required) c WHERE c <> ALL (cols);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'cannot adopt existing trade_records: it lacks the column(s) %', array_to_string(missing, ', ')
      USING ERRCODE = 'undefined_column',
            HINT = 'trade_records needs order_id, symbol, side, size, price and order_time (docs/CONTRACT.md §7).';
  END IF;
  IF 'total_fees_usd' <> ALL (cols) THEN
    ALTER TABLE trade_records ADD COLUMN total_fees_usd numeric NOT NULL DEFAULT 0;
    added := array_append(added, 'total_fees_usd');
  END IF;
  IF 'source' <> ALL (cols) THEN
    ALTER TABLE trade_records ADD COLUMN source text;
    added := array_append(added, 'source');
  END IF;
  IF 'trigger' <> ALL (cols) THEN
    ALTER TABLE trade_records ADD COLUMN trigger text;
    added := array_append(added, 'trigger');
  END IF;

  -- order_id must identify a fact; add a unique index when the legacy table keys on something else.
  SELECT EXISTS (
    SELECT 1 FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = 'trade_records'::regclass AND i.indisunique AND i.indnkeyatts = 1
       AND i.indpred IS NULL AND a.attname = 'order_id') INTO has_key;
  IF NOT has_key THEN
    BEGIN
      CREATE UNIQUE INDEX trade_records_order_id_key ON trade_records (order_id);
      objects := array_append(objects, 'trade_records_order_id_key');
    EXCEPTION WHEN unique_violation THEN
      RAISE EXCEPTION 'cannot adopt existing trade_records: order_id is not unique'
        USING HINT = 'Find duplicates with: SELECT order_id, count(*) FROM trade_records GROUP BY 1 HAVING count(*) > 1';
    END;
  END IF;

  EXECUTE 'SELECT count(*) FROM trade_records' INTO nrows;
  INSERT INTO fifo_adoption (legacy_rows, legacy_columns, added_columns, added_objects)
  SELECT nrows, coalesce(array_agg(c) FILTER (WHERE c <> ALL (contract)), '{}'), added, objects
    FROM unnest(cols) c;
END
$adopt$;

-- Rules on facts. Constraint names say the column and the rule, so the database's own
-- error ("violates check constraint trade_records_size_must_be_positive") names the input.
-- On an adopted table they are added NOT VALID (legacy rows stay; new rows are checked)
-- and validated right away when the legacy rows satisfy them.
DO $rules$
DECLARE
  adopted constant boolean := EXISTS (SELECT 1 FROM fifo_adoption);
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('trade_records_side_must_be_buy_or_sell',        $$side IN ('buy', 'sell')$$),
      ('trade_records_size_must_be_positive',           $$size > 0 AND size <= 1e15 AND size::numeric <> 'NaN'$$),
      ('trade_records_size_at_most_18_decimals',        $$scale(size::numeric) <= 18$$),
      ('trade_records_price_must_be_positive',          $$price > 0 AND price <= 1e15 AND price::numeric <> 'NaN'$$),
      ('trade_records_price_at_most_18_decimals',       $$scale(price::numeric) <= 18$$),
      ('trade_records_total_fees_usd_must_not_be_negative', $$total_fees_usd >= 0 AND total_fees_usd <= 1e15 AND total_fees_usd::numeric <> 'NaN'$$),
      ('trade_records_total_fees_usd_at_most_18_decimals',  $$scale(total_fees_usd::numeric) <= 18$$),
      ('trade_records_symbol_must_be_base_dash_quote',  $$symbol ~ '^[A-Za-z0-9._]{1,32}-[A-Za-z0-9._]{1,32}$'$$),
      ('trade_records_order_id_must_not_be_blank',      $$length(btrim(order_id)) > 0 AND length(order_id) <= 200$$)
    ) AS t(name, expr)
  LOOP
    IF adopted THEN
      EXECUTE format('ALTER TABLE trade_records ADD CONSTRAINT %I CHECK (%s) NOT VALID', r.name, r.expr);
      BEGIN
        EXECUTE format('ALTER TABLE trade_records VALIDATE CONSTRAINT %I', r.name);
      EXCEPTION WHEN check_violation THEN
        RAISE NOTICE 'adopted trade_records has legacy rows violating %; the constraint checks new rows only and v_allocation_discrepancies lists the old ones', r.name;
      END;
    ELSE
      EXECUTE format('ALTER TABLE trade_records ADD CONSTRAINT %I CHECK (%s)', r.name, r.expr);
    END IF;
  END LOOP;
END
$rules$;

-- The engine reads one symbol's trades in processing order.
CREATE INDEX trade_records_symbol_time_idx ON trade_records (symbol, order_time, order_id);

-- An order id names one fact for good: a correction changes the fact, never its identity.
CREATE FUNCTION fifo_forbid_order_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'trade_records.order_id cannot change (% -> %): delete the fact and insert a new one',
    OLD.order_id, NEW.order_id USING ERRCODE = 'check_violation', COLUMN = 'order_id', TABLE = 'trade_records';
END $$;
CREATE TRIGGER trade_records_order_id_immutable
  BEFORE UPDATE OF order_id ON trade_records
  FOR EACH ROW WHEN (OLD.order_id IS DISTINCT FROM NEW.order_id)
  EXECUTE FUNCTION fifo_forbid_order_id_change();

-- Append-only audit trail of every insert, correction and delete of a fact.
CREATE TABLE IF NOT EXISTS trade_records_audit (
  audit_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  operation      text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  symbol         text NOT NULL,
  order_id       text NOT NULL,
  affected_time  timestamptz NOT NULL,  -- earliest order_time the change touches (old or new)
  old_fact       jsonb,
  new_fact       jsonb,
  changed_at     timestamptz NOT NULL DEFAULT now(),
  changed_by     text NOT NULL DEFAULT current_user,
  txid           xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX IF NOT EXISTS trade_records_audit_symbol_idx ON trade_records_audit (symbol, audit_id);
CREATE INDEX IF NOT EXISTS trade_records_audit_order_idx ON trade_records_audit (order_id, audit_id);

CREATE FUNCTION fifo_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'trade_records_audit is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER trade_records_audit_no_update_delete
  BEFORE UPDATE OR DELETE ON trade_records_audit
  FOR EACH ROW EXECUTE FUNCTION fifo_audit_is_append_only();
CREATE TRIGGER trade_records_audit_no_truncate
  BEFORE TRUNCATE ON trade_records_audit
  FOR EACH STATEMENT EXECUTE FUNCTION fifo_audit_is_append_only();

-- Adoption: the legacy computed values as they stood, kept for the old-vs-new comparison.
CREATE TABLE IF NOT EXISTS trade_records_legacy_snapshot (
  symbol        text NOT NULL,
  order_id      text NOT NULL,
  side          text,
  order_time    timestamptz,
  legacy        jsonb NOT NULL,  -- every non-contract column of the row
  captured_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (symbol, order_id)
);
DO $snapshot$
BEGIN
  IF EXISTS (SELECT 1 FROM fifo_adoption) THEN
    INSERT INTO trade_records_legacy_snapshot (symbol, order_id, side, order_time, legacy)
    SELECT t.symbol, t.order_id, t.side, t.order_time::timestamptz,
           to_jsonb(t) - ARRAY['order_id','symbol','side','size','price','total_fees_usd','order_time','source','trigger']
      FROM trade_records t
    ON CONFLICT (symbol, order_id) DO NOTHING;
  END IF;
END
$snapshot$;

-- Down Migration
-- Never destroys facts: an adopted trade_records stays with all its rows and columns; a
-- trade_records or audit trail created here is dropped only when empty, or when the
-- session says `SET fifo.allow_drop_facts = on` (`pnpm fifo migrate down --drop-facts`).
DO $down$
DECLARE
  allow   constant boolean := coalesce(current_setting('fifo.allow_drop_facts', true), '') IN ('on', 'true', '1');
  adopted constant boolean := EXISTS (SELECT 1 FROM fifo_adoption);
  objects text[];
  n_facts bigint;
  n_audit bigint;
  n_legacy bigint;
  c text;
BEGIN
  SELECT count(*) INTO n_audit FROM trade_records_audit;
  SELECT count(*) INTO n_legacy FROM trade_records_legacy_snapshot;
  IF adopted THEN
    SELECT added_objects INTO objects FROM fifo_adoption;
    DROP TRIGGER IF EXISTS trade_records_order_id_immutable ON trade_records;
    DROP INDEX IF EXISTS trade_records_symbol_time_idx;
    FOREACH c IN ARRAY objects LOOP
      EXECUTE format('DROP INDEX IF EXISTS %I', c);
    END LOOP;
    FOR c IN SELECT conname FROM pg_constraint
              WHERE conrelid = 'trade_records'::regclass AND conname LIKE 'trade_records\_%\_must\_%'
                 OR conrelid = 'trade_records'::regclass AND conname LIKE 'trade_records\_%\_at\_most\_18\_decimals'
    LOOP
      EXECUTE format('ALTER TABLE trade_records DROP CONSTRAINT %I', c);
    END LOOP;
    RAISE NOTICE 'trade_records was adopted: it stays, with its rows and columns';
  ELSE
    SELECT count(*) INTO n_facts FROM trade_records;
    IF (n_facts > 0 OR n_audit > 0) AND NOT allow THEN
      RAISE EXCEPTION 'refusing to drop trade_records: it holds % fact(s) and its audit trail % row(s)', n_facts, n_audit
        USING ERRCODE = 'dependent_objects_still_exist',
              HINT = 'Facts are never dropped implicitly. To drop them anyway: pnpm fifo migrate down --drop-facts';
    END IF;
    DROP TABLE trade_records;
  END IF;

  IF n_audit > 0 AND NOT allow THEN
    RAISE NOTICE 'trade_records_audit holds % row(s): kept (pass --drop-facts to drop it)', n_audit;
  ELSE
    DROP TABLE trade_records_audit;
  END IF;
  IF n_legacy > 0 AND NOT allow THEN
    RAISE NOTICE 'trade_records_legacy_snapshot holds % legacy row(s): kept (pass --drop-facts to drop it)', n_legacy;
  ELSE
    DROP TABLE trade_records_legacy_snapshot;
  END IF;
END
$down$;
DROP FUNCTION IF EXISTS fifo_forbid_order_id_change();
DROP FUNCTION IF EXISTS fifo_audit_is_append_only() CASCADE;
DROP TABLE fifo_adoption;
