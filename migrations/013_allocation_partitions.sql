-- Up Migration
-- Issue 11: fifo_allocations is partitioned by allocation version, one partition per version
-- (created with the version, dropped with it), so a full recompute can build a version's rows
-- apart and swap them in, and no row pays a foreign-key check: a row of a version that has no
-- partition cannot be inserted at all. The PK, the CHECKs and the partial unmatched index stay;
-- the buy and sell_time indexes go (no reader goes through them: per-symbol and per-sell reads
-- use the PK, the reports scan and filter sell_time after grouping). The rows move over as they are.
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- The partition that holds a version's rows.
CREATE FUNCTION fifo_allocation_partition(p_version int) RETURNS text LANGUAGE sql IMMUTABLE
RETURN 'fifo_allocations_v' || p_version;

-- The views reading fifo_allocations, to be re-planned against the new table below. CREATE OR
-- REPLACE keeps each view itself (its grants, owner, comments and the views built on it).
CREATE TEMP TABLE fifo_013_views ON COMMIT DROP AS
SELECT DISTINCT c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS def, c.reloptions
  FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class c ON c.oid = w.ev_class
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.refobjid = 'fifo_allocations'::regclass AND c.relkind = 'v';

DROP INDEX fifo_allocations_buy_idx;
DROP INDEX fifo_allocations_sell_time_idx;
ALTER TABLE fifo_allocations RENAME TO fifo_allocations_pre013;
ALTER INDEX fifo_allocations_pkey RENAME TO fifo_allocations_pre013_pkey;
ALTER INDEX fifo_allocations_unmatched_idx RENAME TO fifo_allocations_pre013_unmatched_idx;

CREATE TABLE fifo_allocations (
  allocation_version  int NOT NULL,                             -- the partition key (fifo_allocation_versions)
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
) PARTITION BY LIST (allocation_version);
CREATE INDEX fifo_allocations_unmatched_idx ON fifo_allocations (allocation_version, symbol)
  WHERE buy_order_id IS NULL;

-- A version's partition comes and goes with the version (its row is the guard the foreign
-- key was); the key of a version cannot change, as the other tables' foreign keys require.
CREATE FUNCTION fifo_version_partition() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF fifo_allocations FOR VALUES IN (%s)',
                   fifo_allocation_partition(NEW.allocation_version), NEW.allocation_version);
  ELSIF TG_OP = 'DELETE' THEN
    EXECUTE format('DROP TABLE IF EXISTS %I', fifo_allocation_partition(OLD.allocation_version));
  ELSIF NEW.allocation_version IS DISTINCT FROM OLD.allocation_version THEN
    RAISE EXCEPTION 'allocation version % cannot be renumbered (create a new version instead)', OLD.allocation_version
      USING ERRCODE = 'feature_not_supported';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER fifo_allocation_versions_partition AFTER INSERT OR DELETE ON fifo_allocation_versions
  FOR EACH ROW EXECUTE FUNCTION fifo_version_partition();
CREATE TRIGGER fifo_allocation_versions_renumber BEFORE UPDATE OF allocation_version ON fifo_allocation_versions
  FOR EACH ROW EXECUTE FUNCTION fifo_version_partition();

DO $partitions$
DECLARE v int;
BEGIN
  FOR v IN SELECT allocation_version FROM fifo_allocation_versions ORDER BY 1 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF fifo_allocations FOR VALUES IN (%s)', fifo_allocation_partition(v), v);
  END LOOP;
END
$partitions$;

INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
    allocation_time, computation_id)
SELECT allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
       buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
       allocation_time, computation_id
  FROM fifo_allocations_pre013;

DO $views$
DECLARE v record;
BEGIN
  FOR v IN SELECT * FROM pg_temp.fifo_013_views ORDER BY name LOOP
    EXECUTE format('CREATE OR REPLACE VIEW %s%s AS %s', v.name,
                   CASE WHEN v.reloptions IS NULL THEN '' ELSE format(' WITH (%s)', array_to_string(v.reloptions, ', ')) END,
                   v.def);
  END LOOP;
END
$views$;
DROP TABLE fifo_allocations_pre013;
DROP TABLE pg_temp.fifo_013_views;
ANALYZE fifo_allocations;

-- Down Migration
CREATE TEMP TABLE fifo_013_views ON COMMIT DROP AS
SELECT DISTINCT c.oid::regclass::text AS name, pg_get_viewdef(c.oid) AS def, c.reloptions
  FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class c ON c.oid = w.ev_class
 WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.refobjid = 'fifo_allocations'::regclass AND c.relkind = 'v';
DROP TRIGGER IF EXISTS fifo_allocation_versions_partition ON fifo_allocation_versions;
DROP TRIGGER IF EXISTS fifo_allocation_versions_renumber ON fifo_allocation_versions;
DROP FUNCTION IF EXISTS fifo_version_partition();
ALTER TABLE fifo_allocations RENAME TO fifo_allocations_post013;
ALTER INDEX fifo_allocations_pkey RENAME TO fifo_allocations_post013_pkey;
ALTER INDEX fifo_allocations_unmatched_idx RENAME TO fifo_allocations_post013_unmatched_idx;
-- as 002 created it
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
INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
    allocation_time, computation_id)
SELECT allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
       buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd,
       allocation_time, computation_id
  FROM fifo_allocations_post013;
CREATE INDEX fifo_allocations_buy_idx ON fifo_allocations (allocation_version, symbol, buy_order_id)
  WHERE buy_order_id IS NOT NULL;
CREATE INDEX fifo_allocations_unmatched_idx ON fifo_allocations (allocation_version, symbol)
  WHERE buy_order_id IS NULL;
CREATE INDEX fifo_allocations_sell_time_idx ON fifo_allocations (allocation_version, sell_time);
DO $views$
DECLARE v record;
BEGIN
  FOR v IN SELECT * FROM pg_temp.fifo_013_views ORDER BY name LOOP
    EXECUTE format('CREATE OR REPLACE VIEW %s%s AS %s', v.name,
                   CASE WHEN v.reloptions IS NULL THEN '' ELSE format(' WITH (%s)', array_to_string(v.reloptions, ', ')) END,
                   v.def);
  END LOOP;
END
$views$;
DROP TABLE fifo_allocations_post013;
DROP TABLE pg_temp.fifo_013_views;
DROP FUNCTION IF EXISTS fifo_allocation_partition(int);
-- `migrate up` re-applies the grants after it runs; a down leaves the table of 002 with them too
SELECT fifo_apply_security();
