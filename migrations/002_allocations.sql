-- Up Migration
-- Computed data (docs/CONTRACT.md §3): allocation versions, allocations, the run log, inventory
-- snapshots, the review queue, dirty markers; and the ledger trigger that audits every
-- change of a fact and marks its symbol dirty from the earliest affected order_time.
-- Scale-out (docs/CONTRACT.md §8.3): every key of a per-symbol table includes symbol; versions and the
-- run log are small reference tables (docs/SCALING.md).

CREATE TABLE fifo_allocation_versions (
  allocation_version  int PRIMARY KEY CHECK (allocation_version > 0),
  method              text NOT NULL DEFAULT 'fifo' CHECK (method IN ('fifo', 'lifo', 'hifo')),
  description         text,
  created_at          timestamptz NOT NULL DEFAULT now()
);
INSERT INTO fifo_allocation_versions (allocation_version, method, description)
VALUES (1, 'fifo', 'default: first in, first out');

CREATE TABLE fifo_allocations (
  allocation_version  int NOT NULL REFERENCES fifo_allocation_versions ON DELETE CASCADE,
  symbol              text NOT NULL,
  sell_order_id       text NOT NULL,
  allocation_seq      int NOT NULL CHECK (allocation_seq > 0),  -- consumption order within the sell
  buy_order_id        text,                                     -- NULL: unmatched remainder
  allocated_size      numeric NOT NULL CHECK (allocated_size > 0),
  buy_price           numeric,
  sell_price          numeric NOT NULL,
  buy_time            timestamptz,
  sell_time           timestamptz NOT NULL,
  buy_fee_usd         numeric,
  sell_fee_usd        numeric NOT NULL,
  cost_basis_usd      numeric,
  proceeds_usd        numeric NOT NULL,
  pnl_usd             numeric,
  allocation_time     timestamptz NOT NULL DEFAULT now(),
  computation_id      bigint,
  PRIMARY KEY (allocation_version, symbol, sell_order_id, allocation_seq),
  CONSTRAINT fifo_allocations_matched_or_unmatched CHECK (
    (buy_order_id IS NULL AND buy_price IS NULL AND buy_time IS NULL
       AND buy_fee_usd IS NULL AND cost_basis_usd IS NULL AND pnl_usd IS NULL)
    OR (buy_order_id IS NOT NULL AND buy_price IS NOT NULL AND buy_time IS NOT NULL
       AND buy_fee_usd IS NOT NULL AND cost_basis_usd IS NOT NULL AND pnl_usd IS NOT NULL))
);
CREATE INDEX fifo_allocations_buy_idx ON fifo_allocations (allocation_version, symbol, buy_order_id)
  WHERE buy_order_id IS NOT NULL;
CREATE INDEX fifo_allocations_unmatched_idx ON fifo_allocations (allocation_version, symbol)
  WHERE buy_order_id IS NULL;
CREATE INDEX fifo_allocations_sell_time_idx ON fifo_allocations (allocation_version, sell_time);

CREATE TABLE fifo_computation_log (
  computation_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  allocation_version  int NOT NULL REFERENCES fifo_allocation_versions ON DELETE CASCADE,
  mode                text NOT NULL CHECK (mode IN ('full', 'incremental')),
  symbols             text[],                 -- NULL: all symbols
  host                text NOT NULL CHECK (host IN ('plv8', 'client')),
  started_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at         timestamptz,
  status              text NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'success', 'failed', 'abandoned')),
  trades_processed    bigint NOT NULL DEFAULT 0,
  allocations_written bigint NOT NULL DEFAULT 0,
  unmatched_count     bigint NOT NULL DEFAULT 0,
  symbols_computed    int NOT NULL DEFAULT 0,
  symbols_failed      int NOT NULL DEFAULT 0,
  duration            interval GENERATED ALWAYS AS (finished_at - started_at) STORED,
  error               text,
  runner              jsonb,                  -- pid, hostname, version of the runner
  CONSTRAINT fifo_computation_log_finished CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX fifo_computation_log_version_idx ON fifo_computation_log (allocation_version, computation_id DESC);

CREATE TABLE fifo_inventory_snapshot (
  allocation_version  int NOT NULL REFERENCES fifo_allocation_versions ON DELETE CASCADE,
  symbol              text NOT NULL,
  method              text NOT NULL CHECK (method IN ('fifo', 'lifo', 'hifo')),
  open_lots           jsonb NOT NULL DEFAULT '[]',  -- the engine's open lots, in its state format
  open_lot_count      int NOT NULL DEFAULT 0,
  open_size           numeric NOT NULL DEFAULT 0,
  watermark_time      timestamptz,                  -- last processed trade, in processing order
  watermark_side      text CHECK (watermark_side IN ('buy', 'sell')),
  watermark_order_id  text,
  trades_processed    bigint NOT NULL DEFAULT 0,
  last_audit_id       bigint NOT NULL DEFAULT 0,    -- ledger changes up to here are reflected
  computation_id      bigint,
  computed_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (allocation_version, symbol)
);

CREATE TABLE manual_review_queue (
  review_id           bigint GENERATED ALWAYS AS IDENTITY,
  allocation_version  int NOT NULL REFERENCES fifo_allocation_versions ON DELETE CASCADE,
  symbol              text NOT NULL,
  order_id            text,
  issue_type          text NOT NULL,   -- unmatched_sell, ledger_drift, long_held_lot, ...
  item_key            text NOT NULL,   -- what makes the item unique within its type (e.g. the order id)
  severity            text NOT NULL DEFAULT 'medium' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved', 'ignored')),
  details             jsonb NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  resolved_at         timestamptz,
  resolved_by         text,
  resolution_note     text,
  computation_id      bigint,
  PRIMARY KEY (review_id, symbol),
  -- recomputing upserts on this key: it never duplicates an item nor reopens a closed one
  CONSTRAINT manual_review_queue_item_key UNIQUE (allocation_version, symbol, issue_type, item_key),
  CONSTRAINT manual_review_queue_closed CHECK ((status = 'pending') = (resolved_at IS NULL))
);
CREATE INDEX manual_review_queue_pending_idx ON manual_review_queue (allocation_version, created_at)
  WHERE status = 'pending';

-- Per (version, symbol): recompute from dirty_from; cleared by the run that consumed it.
CREATE TABLE fifo_dirty_symbols (
  allocation_version  int NOT NULL REFERENCES fifo_allocation_versions ON DELETE CASCADE,
  symbol              text NOT NULL,
  dirty_from          timestamptz NOT NULL,  -- earliest order_time touched by a change
  last_audit_id       bigint NOT NULL,       -- newest audit row that marked it
  first_marked_at     timestamptz NOT NULL DEFAULT now(),
  marked_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (allocation_version, symbol)
);

-- A new version starts clean: it has no snapshot, so its first run is full anyway.

-- The ledger trigger, statement-level with transition tables: one audit insert and one
-- dirty upsert per statement, so a bulk COPY costs a set operation, not a call per row.
-- The fact columns of a row as jsonb (what the audit trail keeps; legacy columns are not facts).
CREATE FUNCTION fifo_fact_json(order_id text, symbol text, side text, size numeric, price numeric,
  total_fees_usd numeric, order_time timestamptz, source text, trigger text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('order_id', order_id, 'symbol', symbol, 'side', side, 'size', size,
    'price', price, 'total_fees_usd', total_fees_usd, 'order_time', order_time,
    'source', source, 'trigger', trigger)
$$;

-- Marks symbols dirty for every version from the earliest affected time, and notifies
-- `fifo watch`. Sorted, so concurrent writers lock dirty rows in one order (no deadlock).
CREATE FUNCTION fifo_mark_dirty(symbols text[], affected timestamptz[], audit_ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF symbols IS NULL THEN RETURN; END IF;
  INSERT INTO fifo_dirty_symbols AS d (allocation_version, symbol, dirty_from, last_audit_id)
  SELECT v.allocation_version, c.symbol, c.dirty_from, c.last_audit_id
    FROM (SELECT s AS symbol, min(t) AS dirty_from, max(a) AS last_audit_id
            FROM unnest(symbols, affected, audit_ids) AS u(s, t, a) GROUP BY s) c
   CROSS JOIN fifo_allocation_versions v
   ORDER BY v.allocation_version, c.symbol COLLATE "C"
  ON CONFLICT (allocation_version, symbol) DO UPDATE
     SET dirty_from = least(d.dirty_from, excluded.dirty_from),
         last_audit_id = greatest(d.last_audit_id, excluded.last_audit_id),
         marked_at = now();
  PERFORM pg_notify('fifo_ledger', x.s) FROM (SELECT DISTINCT s FROM unnest(symbols) s) x;
END $$;

-- The ledger trigger, statement-level with transition tables: one audit insert and one
-- dirty upsert per statement, so a bulk COPY costs set operations, not a call per row.
CREATE FUNCTION fifo_record_fact_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  symbols text[];
  affected timestamptz[];
  audit_ids bigint[];
  -- who changed the fact: the role in effect (SET ROLE), else the login; not the owner
  -- this function runs as once 008 makes it run with its owner's rights
  actor constant text := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, new_fact, changed_by)
      SELECT 'INSERT', n.symbol, n.order_id, n.order_time::timestamptz, fifo_fact_json(n.order_id, n.symbol, n.side,
               n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, n.order_time::timestamptz, n.source, n.trigger), actor
        FROM new_rows n
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM audited;
  ELSIF TG_OP = 'DELETE' THEN
    WITH audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, changed_by)
      SELECT 'DELETE', o.symbol, o.order_id, o.order_time::timestamptz, fifo_fact_json(o.order_id, o.symbol, o.side,
               o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, o.order_time::timestamptz, o.source, o.trigger), actor
        FROM old_rows o
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM audited;
  ELSE
    -- order_id cannot change (trade_records_order_id_immutable), so old and new pair on it.
    -- An update that leaves every fact column alone (e.g. a legacy bot writing its own
    -- computed columns on an adopted table) is not a fact change.
    WITH pairs AS (
      SELECT o.order_id, o.symbol AS old_symbol, n.symbol, least(o.order_time, n.order_time)::timestamptz AS affected_time,
             fifo_fact_json(o.order_id, o.symbol, o.side, o.size::numeric, o.price::numeric, o.total_fees_usd::numeric, o.order_time::timestamptz, o.source, o.trigger) AS old_fact,
             fifo_fact_json(n.order_id, n.symbol, n.side, n.size::numeric, n.price::numeric, n.total_fees_usd::numeric, n.order_time::timestamptz, n.source, n.trigger) AS new_fact
        FROM old_rows o JOIN new_rows n USING (order_id)
    ), audited AS (
      INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time, old_fact, new_fact, changed_by)
      SELECT 'UPDATE', symbol, order_id, affected_time, old_fact, new_fact, actor
        FROM pairs WHERE old_fact IS DISTINCT FROM new_fact
      RETURNING symbol, affected_time, audit_id, old_fact ->> 'symbol' AS old_symbol
    ), touched AS (
      SELECT symbol, affected_time, audit_id FROM audited
      UNION ALL  -- a fact moved to another symbol dirties the one it left too
      SELECT old_symbol, affected_time, audit_id FROM audited WHERE old_symbol <> symbol)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids
      FROM touched;
  END IF;
  PERFORM fifo_mark_dirty(symbols, affected, audit_ids);
  RETURN NULL;
END $$;

CREATE TRIGGER trade_records_audit_insert AFTER INSERT ON trade_records
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fifo_record_fact_changes();
CREATE TRIGGER trade_records_audit_update AFTER UPDATE ON trade_records
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fifo_record_fact_changes();
CREATE TRIGGER trade_records_audit_delete AFTER DELETE ON trade_records
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fifo_record_fact_changes();

-- Down Migration
DROP TRIGGER IF EXISTS trade_records_audit_insert ON trade_records;
DROP TRIGGER IF EXISTS trade_records_audit_update ON trade_records;
DROP TRIGGER IF EXISTS trade_records_audit_delete ON trade_records;
DROP FUNCTION IF EXISTS fifo_record_fact_changes();
DROP FUNCTION IF EXISTS fifo_mark_dirty(text[], timestamptz[], bigint[]);
DROP FUNCTION IF EXISTS fifo_fact_json(text, text, text, numeric, numeric, numeric, timestamptz, text, text);
DROP TABLE IF EXISTS fifo_dirty_symbols;
DROP TABLE IF EXISTS manual_review_queue;
DROP TABLE IF EXISTS fifo_inventory_snapshot;
DROP TABLE IF EXISTS fifo_computation_log;
DROP TABLE IF EXISTS fifo_allocations;
DROP TABLE IF EXISTS fifo_allocation_versions;
