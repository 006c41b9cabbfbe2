-- Up Migration
-- Issue 14: lots per account, and transfers between accounts that carry their basis.
-- trade_records.account (a fact: audited, dirty-marking, a change is a correction);
-- trade_transfers (facts under the same rules: named CHECKs, an append-only audit trail
-- sharing the ledger trail's ids, dirty marking from the earliest affected time);
-- fifo_allocation_versions.pooling ('universal' | 'per_account'); fifo_allocations.account
-- (the sell's account); review items and snapshots that hold several accounts of a symbol;
-- v_sell_pnl.account and per-account views (docs/CONTRACT.md "Accounts and transfers").
-- Every name is unqualified: the migration runs in whatever schema search_path selects.

-- Owner-rights functions below capture this path (FROM CURRENT): the schema, pg_temp last.
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);

-- What this migration replaces of earlier ones, as it was: the down puts it back (so the
-- down need not repeat the earlier migrations' text, and restores whatever was there).
CREATE TABLE fifo_018_replaced (name text PRIMARY KEY, definition text NOT NULL);
INSERT INTO fifo_018_replaced
SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
 WHERE p.oid IN ('fifo_record_fact_changes()'::regprocedure, 'fifo_rebuild_finish(int, bigint)'::regprocedure,
                 'fifo_rebuild_swap(int, bigint)'::regprocedure)
UNION ALL
SELECT CASE WHEN v = 'v_sell_pnl' AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'v_sell_pnl'::regclass AND attname = 'account')
            THEN 'v_sell_pnl (with account)' ELSE v END, pg_get_viewdef(v::regclass)
  FROM unnest(ARRAY['v_audit_trail_discrepancies', 'v_tax_lots', 'v_sell_pnl']) v;

-- An earlier definition with a piece of text replaced; refuses when the piece is not there.
CREATE FUNCTION fifo_018_patch(def text, old text, new text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF position(old IN def) = 0 THEN
    RAISE EXCEPTION 'migration 018: the definition it changes does not contain %', old;
  END IF;
  RETURN replace(def, old, new);
END $$;

-- ---- trade_records.account ---------------------------------------------------------------
-- An adopted ledger that already has an account column keeps it: text, given the default and
-- NOT NULL when no row is NULL (else its NULL rows fail to compute, naming the fill).
DO $account$
DECLARE
  col record;
BEGIN
  SELECT format_type(atttypid, NULL) AS type, attnotnull, atthasdef INTO col FROM pg_attribute
   WHERE attrelid = 'trade_records'::regclass AND attname = 'account' AND NOT attisdropped;
  IF NOT FOUND THEN
    ALTER TABLE trade_records ADD COLUMN account text NOT NULL DEFAULT 'default';
    RETURN;
  END IF;
  IF col.type <> 'text' THEN
    RAISE EXCEPTION 'trade_records.account is of type %: fifo-ledger reads the account as text', col.type
      USING ERRCODE = 'datatype_mismatch',
            HINT = 'Convert it first, e.g. ALTER TABLE trade_records ALTER COLUMN account TYPE text';
  END IF;
  IF NOT col.atthasdef THEN
    ALTER TABLE trade_records ALTER COLUMN account SET DEFAULT 'default';
  END IF;
  IF NOT col.attnotnull THEN
    IF EXISTS (SELECT 1 FROM trade_records WHERE account IS NULL) THEN
      RAISE NOTICE 'adopted trade_records has rows without an account; their symbols cannot be computed until corrected';
    ELSE
      ALTER TABLE trade_records ALTER COLUMN account SET NOT NULL;
    END IF;
  END IF;
END
$account$;

-- The rules of names (accounts as order ids, 010): not blank, at most 200 characters, no
-- control or invisible characters, no space at either end. An unknown account is allowed:
-- accounts are not declared, a fill or a transfer names them.
CREATE FUNCTION fifo_name_rules(col text) RETURNS TABLE (rule text, expr text) LANGUAGE sql IMMUTABLE AS $$
  WITH h(hidden) AS (SELECT '\u0001-\u001F\u007F-\u009F\u00A0\u00AD\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u206F\u3000\uFEFF'
    || '\u034F\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2\u115F\u1160\u180B-\u180F\u3164\uE000-\uF8FF'
    || '\uFE00-\uFE0F\uFFA0\uFFF0-\uFFFF\U000110BD\U000110CD\U00013430-\U0001345F\U0001BCA0-\U0001BCA3'
    || '\U0001D173-\U0001D17A\U000E0000-\U000E0FFF\U000F0000-\U0010FFFF')
  SELECT * FROM (VALUES
    ('at_most_200_chars',             format('length(%I) <= 200', col)),
    ('must_not_be_blank',             format($f$%I ~ '[^ %s]'$f$, col, (SELECT hidden FROM h))),
    ('no_control_or_invisible_chars', format($f$%I !~ '[%s]'$f$, col, (SELECT hidden FROM h))),
    ('no_leading_or_trailing_space',  format($f$%I !~ '^ | $'$f$, col))) AS r(rule, expr)
$$;

DO $rules$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM fifo_name_rules('account') LOOP
    EXECUTE format('ALTER TABLE trade_records ADD CONSTRAINT %I CHECK (%s) NOT VALID', 'trade_records_account_' || r.rule, r.expr);
    BEGIN
      EXECUTE format('ALTER TABLE trade_records VALIDATE CONSTRAINT %I', 'trade_records_account_' || r.rule);
    EXCEPTION WHEN check_violation THEN
      RAISE NOTICE 'trade_records has rows violating trade_records_account_%; the constraint checks new rows only', r.rule;
    END;
  END LOOP;
END
$rules$;

-- The fact as the audit trail keeps it, now with its account.
CREATE FUNCTION fifo_fact_json(order_id text, symbol text, side text, size numeric, price numeric,
  total_fees_usd numeric, order_time timestamptz, source text, trigger text, account text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('order_id', order_id, 'symbol', symbol, 'side', side, 'size', size,
    'price', price, 'total_fees_usd', total_fees_usd, 'order_time', order_time,
    'source', source, 'trigger', trigger, 'account', account)
$$;

-- 011's ledger trigger, the account part of the fact: changing it is a correction.
DO $trigger$
BEGIN
  EXECUTE fifo_018_patch(fifo_018_patch((SELECT definition FROM fifo_018_replaced WHERE name = 'fifo_record_fact_changes()'),
    'n.source, n.trigger)', 'n.source, n.trigger, n.account)'), 'o.source, o.trigger)', 'o.source, o.trigger, o.account)');
END
$trigger$;

-- ---- trade_transfers ---------------------------------------------------------------------
-- A movement of a symbol's base asset from one account to another: size is what left and
-- arrived (a network fee paid in the asset is not modelled here).
CREATE TABLE trade_transfers (
  transfer_id    text PRIMARY KEY,
  symbol         text NOT NULL,
  from_account   text NOT NULL,
  to_account     text NOT NULL,
  size           numeric NOT NULL,
  transfer_time  timestamptz NOT NULL,
  note           text
);
CREATE INDEX trade_transfers_symbol_time_idx ON trade_transfers (symbol, transfer_time, transfer_id);

DO $rules$
DECLARE
  r record;
  c text;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('trade_transfers_accounts_must_differ',           $$from_account <> to_account$$),
      ('trade_transfers_size_must_be_positive',          $$size > 0 AND size <= 1e15 AND size <> 'NaN'$$),
      ('trade_transfers_size_at_most_18_decimals',       $$scale(size) <= 18$$),
      ('trade_transfers_symbol_must_be_base_dash_quote', $$symbol ~ '^[A-Za-z0-9._]{1,32}-[A-Za-z0-9._]{1,32}$'$$),
      ('trade_transfers_symbol_must_be_upper_case',      $$symbol !~ '[a-z]'$$),
      ('trade_transfers_transfer_time_must_be_a_real_time',
         $$transfer_time >= '0001-01-01 00:00:00+00'::timestamptz AND transfer_time < '10000-01-01 00:00:00+00'::timestamptz$$)
    ) AS t(name, expr)
  LOOP
    EXECUTE format('ALTER TABLE trade_transfers ADD CONSTRAINT %I CHECK (%s)', r.name, r.expr);
  END LOOP;
  FOREACH c IN ARRAY ARRAY['transfer_id', 'from_account', 'to_account'] LOOP
    FOR r IN SELECT * FROM fifo_name_rules(c) LOOP
      EXECUTE format('ALTER TABLE trade_transfers ADD CONSTRAINT %I CHECK (%s)', 'trade_transfers_' || c || '_' || r.rule, r.expr);
    END LOOP;
  END LOOP;
END
$rules$;

-- A transfer id names one fact for good, as an order id does.
CREATE FUNCTION fifo_forbid_transfer_id_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'trade_transfers.transfer_id cannot change (% -> %): delete the transfer and insert a new one',
    OLD.transfer_id, NEW.transfer_id USING ERRCODE = 'check_violation', COLUMN = 'transfer_id', TABLE = 'trade_transfers';
END $$;
CREATE TRIGGER trade_transfers_transfer_id_immutable
  BEFORE UPDATE OF transfer_id ON trade_transfers
  FOR EACH ROW WHEN (OLD.transfer_id IS DISTINCT FROM NEW.transfer_id)
  EXECUTE FUNCTION fifo_forbid_transfer_id_change();

-- Append-only trail of every change of a transfer. Its ids come from the ledger trail's
-- sequence, so a dirty marker's last_audit_id and a computation's audit position compare
-- across both trails.
CREATE TABLE IF NOT EXISTS trade_transfers_audit (
  audit_id       bigint PRIMARY KEY,
  operation      text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  symbol         text NOT NULL,
  transfer_id    text NOT NULL,
  affected_time  timestamptz NOT NULL,  -- earliest transfer_time the change touches (old or new)
  old_fact       jsonb,
  new_fact       jsonb,
  changed_at     timestamptz NOT NULL DEFAULT now(),
  changed_by     text NOT NULL DEFAULT current_user,
  txid           xid8 NOT NULL DEFAULT pg_current_xact_id()
);
DO $seq$
BEGIN
  EXECUTE format('ALTER TABLE trade_transfers_audit ALTER COLUMN audit_id SET DEFAULT nextval(%L::regclass)',
                 pg_get_serial_sequence('trade_records_audit', 'audit_id'));
END
$seq$;
CREATE INDEX IF NOT EXISTS trade_transfers_audit_symbol_idx ON trade_transfers_audit (symbol, audit_id);
CREATE INDEX IF NOT EXISTS trade_transfers_audit_transfer_idx ON trade_transfers_audit (transfer_id, audit_id);
DROP TRIGGER IF EXISTS trade_transfers_audit_no_update_delete ON trade_transfers_audit;
DROP TRIGGER IF EXISTS trade_transfers_audit_no_truncate ON trade_transfers_audit;
CREATE TRIGGER trade_transfers_audit_no_update_delete
  BEFORE UPDATE OR DELETE ON trade_transfers_audit
  FOR EACH ROW EXECUTE FUNCTION fifo_audit_is_append_only();
CREATE TRIGGER trade_transfers_audit_no_truncate
  BEFORE TRUNCATE ON trade_transfers_audit
  FOR EACH STATEMENT EXECUTE FUNCTION fifo_audit_is_append_only();

CREATE FUNCTION fifo_transfer_json(transfer_id text, symbol text, from_account text, to_account text, size numeric,
  transfer_time timestamptz, note text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('transfer_id', transfer_id, 'symbol', symbol, 'from_account', from_account,
    'to_account', to_account, 'size', size, 'transfer_time', transfer_time, 'note', note)
$$;

-- As the ledger trigger: statement-level, one audit insert and one dirty upsert per statement.
CREATE FUNCTION fifo_record_transfer_changes() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  symbols text[];
  affected timestamptz[];
  audit_ids bigint[];
  actor constant text := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
  IF TG_OP = 'INSERT' THEN
    WITH audited AS (
      INSERT INTO trade_transfers_audit (operation, symbol, transfer_id, affected_time, new_fact, changed_by)
      SELECT 'INSERT', n.symbol, n.transfer_id, n.transfer_time,
             fifo_transfer_json(n.transfer_id, n.symbol, n.from_account, n.to_account, n.size, n.transfer_time, n.note), actor
        FROM new_rows n
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids FROM audited;
  ELSIF TG_OP = 'DELETE' THEN
    WITH audited AS (
      INSERT INTO trade_transfers_audit (operation, symbol, transfer_id, affected_time, old_fact, changed_by)
      SELECT 'DELETE', o.symbol, o.transfer_id, o.transfer_time,
             fifo_transfer_json(o.transfer_id, o.symbol, o.from_account, o.to_account, o.size, o.transfer_time, o.note), actor
        FROM old_rows o
      RETURNING symbol, affected_time, audit_id)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids FROM audited;
  ELSE
    WITH pairs AS (
      SELECT o.transfer_id, o.symbol AS old_symbol, n.symbol, least(o.transfer_time, n.transfer_time) AS affected_time,
             fifo_transfer_json(o.transfer_id, o.symbol, o.from_account, o.to_account, o.size, o.transfer_time, o.note) AS old_fact,
             fifo_transfer_json(n.transfer_id, n.symbol, n.from_account, n.to_account, n.size, n.transfer_time, n.note) AS new_fact
        FROM old_rows o JOIN new_rows n USING (transfer_id)
    ), audited AS (
      INSERT INTO trade_transfers_audit (operation, symbol, transfer_id, affected_time, old_fact, new_fact, changed_by)
      SELECT 'UPDATE', symbol, transfer_id, affected_time, old_fact, new_fact, actor
        FROM pairs WHERE old_fact IS DISTINCT FROM new_fact
      RETURNING symbol, affected_time, audit_id, old_fact ->> 'symbol' AS old_symbol
    ), touched AS (
      SELECT symbol, affected_time, audit_id FROM audited
      UNION ALL  -- a transfer moved to another symbol dirties the one it left too
      SELECT old_symbol, affected_time, audit_id FROM audited WHERE old_symbol <> symbol)
    SELECT array_agg(symbol), array_agg(affected_time), array_agg(audit_id) INTO symbols, affected, audit_ids FROM touched;
  END IF;
  PERFORM fifo_mark_dirty(symbols, affected, audit_ids);
  RETURN NULL;
END $$;
CREATE TRIGGER trade_transfers_audit_insert AFTER INSERT ON trade_transfers
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fifo_record_transfer_changes();
CREATE TRIGGER trade_transfers_audit_update AFTER UPDATE ON trade_transfers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fifo_record_transfer_changes();
CREATE TRIGGER trade_transfers_audit_delete AFTER DELETE ON trade_transfers
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fifo_record_transfer_changes();

-- 011's audit-trail check with the account (an audit row written before this migration has
-- none, and its fact was in account 'default', the column's default), and the transfers
-- against their trail as the fills against theirs (order_id: the transfer id).
CREATE OR REPLACE VIEW v_audit_trail_discrepancies AS
WITH latest AS (
  SELECT DISTINCT ON (a.order_id) a.audit_id, a.operation, a.symbol, a.order_id,
         CASE WHEN a.new_fact IS NULL OR a.new_fact ? 'account' THEN a.new_fact
              ELSE a.new_fact || '{"account": "default"}' END AS new_fact
    FROM trade_records_audit a
   ORDER BY a.order_id, a.audit_id DESC
), facts AS (
  SELECT t.order_id, t.symbol, fifo_utc(t.order_time) AS order_time,
         fifo_fact_json(t.order_id, t.symbol, t.side, t.size::numeric, t.price::numeric, t.total_fees_usd::numeric,
                        fifo_utc(t.order_time), t.source, t.trigger, t.account) AS fact
    FROM trade_records t
), latest_transfer AS (
  SELECT DISTINCT ON (a.transfer_id) a.audit_id, a.operation, a.symbol, a.transfer_id, a.new_fact
    FROM trade_transfers_audit a
   ORDER BY a.transfer_id, a.audit_id DESC
), transfers AS (
  SELECT x.transfer_id, x.symbol, x.transfer_time,
         fifo_transfer_json(x.transfer_id, x.symbol, x.from_account, x.to_account, x.size, x.transfer_time, x.note) AS fact
    FROM trade_transfers x
)
SELECT NULL::int AS allocation_version, f.symbol, f.order_id, 'fact_not_audited'::text AS check_name,
       'an INSERT or UPDATE row in trade_records_audit'::text AS expected, f.fact::text AS actual,
       'the fact was written with the ledger trigger disabled (owner or superuser)'::text AS details
  FROM facts f
 WHERE NOT EXISTS (SELECT 1 FROM latest l WHERE l.order_id = f.order_id)
   AND NOT EXISTS (SELECT 1 FROM trade_records_legacy_snapshot s WHERE s.order_id = f.order_id AND s.symbol = f.symbol)
UNION ALL
SELECT NULL::int, f.symbol, f.order_id, 'fact_differs_from_audit',
       coalesce(l.new_fact::text, 'deleted'), f.fact::text,
       format('the fact differs from its latest audit row %s (%s): changed with the ledger trigger disabled', l.audit_id, l.operation)
  FROM facts f JOIN latest l ON l.order_id = f.order_id
 WHERE l.new_fact IS NULL
    OR (l.new_fact - 'order_time') IS DISTINCT FROM (f.fact - 'order_time')
    OR (l.new_fact ->> 'order_time')::timestamptz IS DISTINCT FROM f.order_time
UNION ALL
SELECT NULL::int, l.symbol, l.order_id, 'audited_fact_missing',
       l.new_fact::text, 'no fact',
       format('audit row %s (%s) says the fact exists, the ledger lacks it: deleted with the ledger trigger disabled or truncated', l.audit_id, l.operation)
  FROM latest l
 WHERE l.operation IN ('INSERT', 'UPDATE')
   AND NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = l.order_id)
UNION ALL
SELECT NULL::int, x.symbol, x.transfer_id, 'transfer_not_audited',
       'an INSERT or UPDATE row in trade_transfers_audit', x.fact::text,
       'the transfer was written with its trigger disabled (owner or superuser)'
  FROM transfers x
 WHERE NOT EXISTS (SELECT 1 FROM latest_transfer l WHERE l.transfer_id = x.transfer_id)
UNION ALL
SELECT NULL::int, x.symbol, x.transfer_id, 'transfer_differs_from_audit',
       coalesce(l.new_fact::text, 'deleted'), x.fact::text,
       format('the transfer differs from its latest audit row %s (%s): changed with its trigger disabled', l.audit_id, l.operation)
  FROM transfers x JOIN latest_transfer l ON l.transfer_id = x.transfer_id
 WHERE l.new_fact IS NULL
    OR (l.new_fact - 'transfer_time') IS DISTINCT FROM (x.fact - 'transfer_time')
    OR (l.new_fact ->> 'transfer_time')::timestamptz IS DISTINCT FROM x.transfer_time
UNION ALL
SELECT NULL::int, l.symbol, l.transfer_id, 'audited_transfer_missing',
       l.new_fact::text, 'no transfer',
       format('audit row %s (%s) says the transfer exists, trade_transfers lacks it: deleted with its trigger disabled or truncated', l.audit_id, l.operation)
  FROM latest_transfer l
 WHERE l.operation IN ('INSERT', 'UPDATE')
   AND NOT EXISTS (SELECT 1 FROM trade_transfers x WHERE x.transfer_id = l.transfer_id);

-- ---- computed data -----------------------------------------------------------------------
ALTER TABLE fifo_allocation_versions ADD COLUMN pooling text NOT NULL DEFAULT 'universal'
  CONSTRAINT fifo_allocation_versions_pooling_must_be_known CHECK (pooling IN ('universal', 'per_account'));

-- the sell's account; rows computed before this migration were all in 'default'
ALTER TABLE fifo_allocations ADD COLUMN account text NOT NULL DEFAULT 'default';

-- one snapshot per (version, symbol) holds every account's lots (each lot names its account);
-- its pooling says which kind of state it is, and a transfer can be the last processed event
ALTER TABLE fifo_inventory_snapshot ADD COLUMN pooling text NOT NULL DEFAULT 'universal'
  CONSTRAINT fifo_inventory_snapshot_pooling_must_be_known CHECK (pooling IN ('universal', 'per_account'));
ALTER TABLE fifo_rebuild_symbols ADD COLUMN pooling text NOT NULL DEFAULT 'universal';
DO $wm$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'fifo_inventory_snapshot'::regclass AND contype = 'c'
              AND pg_get_constraintdef(oid) LIKE '%watermark_side%'
  LOOP
    EXECUTE format('ALTER TABLE fifo_inventory_snapshot DROP CONSTRAINT %I', c);
  END LOOP;
END
$wm$;
ALTER TABLE fifo_inventory_snapshot ADD CONSTRAINT fifo_inventory_snapshot_watermark_side_check
  CHECK (watermark_side IN ('buy', 'transfer', 'sell'));

-- staged review items of a rebuild carry their type (unmatched_sell, unmatched_transfer)
ALTER TABLE fifo_rebuild_reviews ADD COLUMN issue_type text NOT NULL DEFAULT 'unmatched_sell';
ALTER TABLE fifo_rebuild_reviews DROP CONSTRAINT fifo_rebuild_reviews_pkey;
ALTER TABLE fifo_rebuild_reviews ADD PRIMARY KEY (computation_id, symbol, issue_type, order_id);

-- 013's finish copies the account of the rows the rebuild did not compute; its swap applies
-- the snapshots' pooling and both kinds of staged review items, and resolves a pending
-- unmatched_transfer whose transfer is now covered (or gone).
DO $rebuild$
DECLARE
  nl constant text := chr(10);
  d text;
BEGIN
  d := (SELECT definition FROM fifo_018_replaced WHERE name = 'fifo_rebuild_finish(integer,bigint)');
  d := fifo_018_patch(d, 'allocation_time, computation_id)', 'allocation_time, computation_id, account)');
  EXECUTE fifo_018_patch(d, 'allocation_time, computation_id' || nl, 'allocation_time, computation_id, account' || nl);
  d := (SELECT definition FROM fifo_018_replaced WHERE name = 'fifo_rebuild_swap(integer,bigint)');
  d := fifo_018_patch(d, 'computation_id, computed_at)', 'computation_id, computed_at, pooling)');
  d := fifo_018_patch(d, 'p_computation_id, now()', 'p_computation_id, now(), r.pooling');
  d := fifo_018_patch(d, 'computed_at = excluded.computed_at;', 'computed_at = excluded.computed_at, pooling = excluded.pooling;');
  d := fifo_018_patch(d, $$r.order_id, 'unmatched_sell', r.order_id$$, 'r.order_id, r.issue_type, r.order_id');
  EXECUTE fifo_018_patch(d, '  -- a change that arrived after the rebuild read its symbol keeps its marker', $$  UPDATE manual_review_queue q
     SET status = 'resolved', resolved_at = now(), updated_at = now(), resolved_by = 'fifo_compute',
         resolution_note = 'covered by a later computation', computation_id = p_computation_id
   WHERE q.allocation_version = p_version AND q.issue_type = 'unmatched_transfer' AND q.status = 'pending'
     AND q.symbol IN (SELECT r.symbol FROM fifo_rebuild_symbols r WHERE r.computation_id = p_computation_id)
     AND NOT EXISTS (SELECT 1 FROM fifo_rebuild_reviews r
                      WHERE r.computation_id = p_computation_id AND r.symbol = q.symbol
                        AND r.issue_type = 'unmatched_transfer' AND r.order_id = q.item_key);
  -- a change that arrived after the rebuild read its symbol keeps its marker$$);
END
$rebuild$;

-- ---- views -------------------------------------------------------------------------------
-- 015's per-sell figures, the sell's account at the end (views built on it keep their columns).
CREATE OR REPLACE VIEW v_sell_pnl AS
SELECT p.allocation_version, p.symbol, p.sell_order_id, p.sell_time, p.sell_price, p.sell_size,
       p.matched_size, p.unmatched_size, p.lots_used, p.proceeds_usd, p.cost_basis_usd, p.realized_pnl_usd,
       p.sell_fee_usd, p.buy_fee_usd, p.first_buy_time, p.last_buy_time, p.source, p.trigger,
       split_part(p.symbol, '-', 2)                  AS quote,       -- the currency of every amount
       (p.sell_time AT TIME ZONE 'UTC')::date        AS day,
       p.sell_fee_usd + p.buy_fee_usd                AS fees_usd,
       p.unmatched_proceeds_usd,                                     -- NULL: nothing unmatched
       p.realized_pnl_usd IS NOT NULL                AS is_matched,  -- has a matched part (a PnL)
       coalesce(p.realized_pnl_usd > 0, false)       AS is_win,
       coalesce(p.realized_pnl_usd < 0, false)       AS is_loss,
       p.unmatched_size > 0                          AS has_unmatched,
       p.account                                                     -- the sell's account
  FROM (SELECT a.allocation_version,
               a.symbol,
               a.sell_order_id,
               min(a.sell_time)                                              AS sell_time,
               min(a.sell_price)                                             AS sell_price,
               sum(a.allocated_size)                                         AS sell_size,
               coalesce(sum(a.allocated_size) FILTER (WHERE a.buy_order_id IS NOT NULL), 0) AS matched_size,
               coalesce(sum(a.allocated_size) FILTER (WHERE a.buy_order_id IS NULL), 0)     AS unmatched_size,
               count(a.buy_order_id)                                         AS lots_used,
               sum(a.proceeds_usd) FILTER (WHERE a.buy_order_id IS NOT NULL) AS proceeds_usd,
               sum(a.cost_basis_usd)                                         AS cost_basis_usd,
               sum(a.pnl_usd)                                                AS realized_pnl_usd,
               sum(a.sell_fee_usd)                                           AS sell_fee_usd,
               coalesce(sum(a.buy_fee_usd), 0)                               AS buy_fee_usd,
               min(a.buy_time)                                               AS first_buy_time,
               max(a.buy_time)                                               AS last_buy_time,
               t.source,
               t.trigger,
               sum(a.proceeds_usd) FILTER (WHERE a.buy_order_id IS NULL)     AS unmatched_proceeds_usd,
               min(a.account)                                                AS account
          FROM fifo_allocations a
          LEFT JOIN trade_records t ON t.order_id = a.sell_order_id AND t.symbol = a.symbol
         GROUP BY a.allocation_version, a.symbol, a.sell_order_id, t.source, t.trigger) p;

-- 007's tax lots, the sell's account at the end (fifo export lots --account).
CREATE OR REPLACE VIEW v_tax_lots AS
SELECT a.allocation_version,
       extract(year FROM a.sell_time AT TIME ZONE 'UTC')::int               AS tax_year,
       a.symbol,
       split_part(a.symbol, '-', 1)                                         AS asset,
       split_part(a.symbol, '-', 2)                                         AS quote_currency,
       trim_scale(a.allocated_size)::text || ' ' || split_part(a.symbol, '-', 1) AS description,
       a.allocated_size                                                     AS quantity,
       (a.buy_time AT TIME ZONE 'UTC')::date                                AS date_acquired,
       (a.sell_time AT TIME ZONE 'UTC')::date                               AS date_sold,
       a.proceeds_usd,
       a.cost_basis_usd,
       a.pnl_usd                                                            AS gain_or_loss_usd,
       CASE WHEN a.buy_order_id IS NULL THEN 'unknown'
            WHEN (a.sell_time AT TIME ZONE 'UTC')::date > ((a.buy_time AT TIME ZONE 'UTC')::date + interval '1 year')::date
            THEN 'long' ELSE 'short' END                                    AS term,
       a.sell_order_id,
       a.buy_order_id,
       a.allocation_seq,
       a.buy_time,
       a.sell_time,
       q.review_id                                                          AS unmatched_review_id,
       a.account
  FROM fifo_allocations a
  LEFT JOIN manual_review_queue q
         ON a.buy_order_id IS NULL AND q.allocation_version = a.allocation_version AND q.symbol = a.symbol
        AND q.issue_type = 'unmatched_sell' AND q.item_key = a.sell_order_id;

-- v_pnl_by_symbol per account: one row per (version, symbol, account of the sells).
CREATE VIEW v_pnl_by_symbol_account AS
SELECT allocation_version,
       symbol,
       account,
       count(*)                                              AS sells,
       count(*) FILTER (WHERE is_win)                        AS winning_sells,
       count(*) FILTER (WHERE is_loss)                       AS losing_sells,
       sum(matched_size)                                     AS matched_size,
       coalesce(sum(proceeds_usd), 0)                        AS proceeds_usd,
       coalesce(sum(cost_basis_usd), 0)                      AS cost_basis_usd,
       coalesce(sum(realized_pnl_usd), 0)                    AS realized_pnl_usd,
       sum(fees_usd)                                         AS fees_usd,
       count(*) FILTER (WHERE has_unmatched)                 AS unmatched_sells,
       sum(unmatched_size)                                   AS unmatched_size,
       min(sell_time)                                        AS first_sell_time,
       max(sell_time)                                        AS last_sell_time,
       quote
  FROM v_sell_pnl
 GROUP BY allocation_version, symbol, account, quote;

-- Open lots per account, from each symbol's snapshot (where the computation left it; a
-- transfer moves lots without writing allocations, so only the snapshot knows where they
-- are). Under per_account pooling a lot split by transfers has one row per account, its
-- unused fee shared in proportion to what each account holds (rounded at 18 places); under
-- universal pooling lots are pooled and account is NULL.
CREATE VIEW v_open_lots_by_account AS
WITH pieces AS (
  SELECT s.allocation_version, s.symbol, s.pooling, l ->> 'account' AS account, l ->> 'orderId' AS buy_order_id,
         (l ->> 'time')::timestamptz AS buy_time, (l ->> 'price')::numeric AS buy_price,
         (l ->> 'size')::numeric AS buy_size, (l ->> 'fee')::numeric AS buy_fee, (l ->> 'remaining')::numeric AS remaining_size
    FROM fifo_inventory_snapshot s CROSS JOIN LATERAL jsonb_array_elements(s.open_lots) l
), held AS (
  SELECT p.*, sum(p.remaining_size) OVER (PARTITION BY p.allocation_version, p.symbol, p.buy_order_id) AS lot_remaining
    FROM pieces p
), fee AS (
  SELECT h.*, round(h.buy_fee - round(h.buy_fee * (h.buy_size - h.lot_remaining) / h.buy_size, 18), 18) AS lot_unused_fee
    FROM held h
)
SELECT allocation_version, symbol, account, buy_order_id, buy_time, buy_price, buy_size, remaining_size,
       round(lot_unused_fee * remaining_size / lot_remaining, 18)                     AS remaining_fee_usd,
       buy_price * remaining_size + round(lot_unused_fee * remaining_size / lot_remaining, 18) AS remaining_cost_basis_usd,
       pooling
  FROM fee;

-- Positions per account: the open lots of v_open_lots_by_account added up.
CREATE VIEW v_open_positions_by_account AS
SELECT allocation_version, symbol, account, sum(remaining_size) AS open_size, count(*) AS open_lots,
       sum(remaining_cost_basis_usd) AS open_cost_basis_usd, split_part(symbol, '-', 2) AS quote, pooling
  FROM v_open_lots_by_account
 GROUP BY allocation_version, symbol, account, pooling;

-- One account's open size per symbol at a moment (fifo reconcile with balances per account),
-- under a per_account version: its buys, less what its sells matched, plus what transfers
-- moved in, less what they moved out (a transfer moves its size less the unmatched part its
-- review item records). Exactly the account's open lots at that moment.
CREATE FUNCTION fifo_open_position_by_account(p_version int, p_as_of timestamptz, p_symbols text[], p_account text)
RETURNS TABLE (symbol text, open_size numeric)
LANGUAGE sql STABLE AS $$
  WITH flows AS (
    SELECT b.symbol, b.size::numeric AS q FROM trade_records b
     WHERE b.side = 'buy' AND b.account = p_account AND fifo_utc(b.order_time) <= p_as_of AND b.symbol = ANY (p_symbols)
    UNION ALL
    SELECT a.symbol, -a.allocated_size FROM fifo_allocations a
     WHERE a.allocation_version = p_version AND a.account = p_account AND a.buy_order_id IS NOT NULL
       AND a.sell_time <= p_as_of AND a.symbol = ANY (p_symbols)
    UNION ALL
    SELECT x.symbol, CASE WHEN x.to_account = p_account THEN 1 ELSE -1 END
                     * (x.size - coalesce((SELECT (q.details ->> 'unmatched')::numeric FROM manual_review_queue q
                                            WHERE q.allocation_version = p_version AND q.symbol = x.symbol
                                              AND q.issue_type = 'unmatched_transfer' AND q.item_key = x.transfer_id
                                              AND (q.details ->> 'requested')::numeric = x.size), 0))
      FROM trade_transfers x
     WHERE x.transfer_time <= p_as_of AND x.symbol = ANY (p_symbols) AND p_account IN (x.from_account, x.to_account))
  SELECT f.symbol, sum(f.q) FROM flows f GROUP BY f.symbol
$$;

-- ---- rights ------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE ON trade_transfers TO fifo_writer;
GRANT SELECT ON trade_transfers TO fifo_reader, fifo_engine;
GRANT SELECT ON trade_transfers_audit TO fifo_engine;
GRANT SELECT ON v_sell_pnl, v_tax_lots, v_pnl_by_symbol_account, v_open_lots_by_account, v_open_positions_by_account,
  v_audit_trail_discrepancies TO fifo_reader, fifo_engine;
DROP FUNCTION fifo_018_patch(text, text, text);
SELECT fifo_apply_security();
GRANT EXECUTE ON FUNCTION fifo_open_position_by_account(int, timestamptz, text[], text) TO fifo_reader;

-- Down Migration
-- Facts stay: refuses while trade_transfers holds rows or an account other than 'default' is
-- recorded, unless the session says `SET fifo.allow_drop_facts = on` (migrate down --drop-facts).
-- The transfers' audit trail stays when it holds rows (like the ledger's, 001).
SELECT set_config('search_path', format('%I, pg_temp', current_schema()), true);
DO $down$
DECLARE
  allow constant boolean := coalesce(current_setting('fifo.allow_drop_facts', true), '') IN ('on', 'true', '1');
  n_transfers bigint;
  n_accounts bigint;
BEGIN
  SELECT count(*) INTO n_transfers FROM trade_transfers;
  SELECT count(*) INTO n_accounts FROM trade_records WHERE account <> 'default';
  IF (n_transfers > 0 OR n_accounts > 0) AND NOT allow THEN
    RAISE EXCEPTION 'refusing to drop accounts and transfers: trade_transfers holds % transfer(s), trade_records % fill(s) outside account default',
      n_transfers, n_accounts
      USING ERRCODE = 'dependent_objects_still_exist',
            HINT = 'Facts are never dropped implicitly. To drop them anyway: pnpm fifo migrate down --drop-facts';
  END IF;
END
$down$;

DROP FUNCTION fifo_open_position_by_account(int, timestamptz, text[], text);
DROP VIEW v_open_positions_by_account;
DROP VIEW v_open_lots_by_account;
DROP VIEW v_pnl_by_symbol_account;
-- What the up replaced comes back as it was. v_sell_pnl keeps its last column, empty: views
-- of later migrations may be built on it (a view's columns cannot be dropped in place), and
-- 015's down drops the view anyway.
DO $restore$
DECLARE
  r record;
  def text;
BEGIN
  FOR r IN SELECT * FROM fifo_018_replaced WHERE name LIKE 'fifo\_%' LOOP
    EXECUTE r.definition;
  END LOOP;
  EXECUTE 'CREATE OR REPLACE VIEW v_audit_trail_discrepancies AS ' || (SELECT definition FROM fifo_018_replaced WHERE name = 'v_audit_trail_discrepancies');
  DROP VIEW v_tax_lots;
  EXECUTE 'CREATE VIEW v_tax_lots AS ' || (SELECT definition FROM fifo_018_replaced WHERE name = 'v_tax_lots');
  GRANT SELECT ON v_tax_lots TO fifo_reader, fifo_engine;
  def := (SELECT definition FROM fifo_018_replaced WHERE name = 'v_sell_pnl (with account)');
  IF def IS NOT NULL THEN
    EXECUTE 'CREATE OR REPLACE VIEW v_sell_pnl AS ' || def;
  ELSE
    def := rtrim(rtrim((SELECT definition FROM fifo_018_replaced WHERE name = 'v_sell_pnl')), ';');
    EXECUTE 'CREATE OR REPLACE VIEW v_sell_pnl AS SELECT o.*, NULL::text AS account FROM (' || def || ') o';
  END IF;
END
$restore$;
DROP TABLE fifo_018_replaced;

DELETE FROM fifo_rebuild_reviews WHERE issue_type <> 'unmatched_sell';
ALTER TABLE fifo_rebuild_reviews DROP CONSTRAINT fifo_rebuild_reviews_pkey;
ALTER TABLE fifo_rebuild_reviews DROP COLUMN issue_type;
ALTER TABLE fifo_rebuild_reviews ADD PRIMARY KEY (computation_id, symbol, order_id);
ALTER TABLE fifo_inventory_snapshot DROP CONSTRAINT fifo_inventory_snapshot_watermark_side_check;
-- a snapshot that ends on a transfer, or holds per-account lots, cannot be continued without accounts
DELETE FROM fifo_inventory_snapshot WHERE watermark_side = 'transfer' OR pooling <> 'universal';
ALTER TABLE fifo_inventory_snapshot ADD CONSTRAINT fifo_inventory_snapshot_watermark_side_check
  CHECK (watermark_side IN ('buy', 'sell'));
ALTER TABLE fifo_inventory_snapshot DROP COLUMN pooling;
ALTER TABLE fifo_rebuild_symbols DROP COLUMN pooling;
ALTER TABLE fifo_allocations DROP COLUMN account;
-- per_account versions become universal ones: their computed rows no longer mean anything
DELETE FROM fifo_allocations a USING fifo_allocation_versions v
 WHERE v.allocation_version = a.allocation_version AND v.pooling <> 'universal';
ALTER TABLE fifo_allocation_versions DROP COLUMN pooling;

DROP TRIGGER trade_transfers_audit_insert ON trade_transfers;
DROP TRIGGER trade_transfers_audit_update ON trade_transfers;
DROP TRIGGER trade_transfers_audit_delete ON trade_transfers;
DROP TABLE trade_transfers;
DROP FUNCTION fifo_record_transfer_changes();
DROP FUNCTION fifo_forbid_transfer_id_change();
DO $audit$
DECLARE
  allow constant boolean := coalesce(current_setting('fifo.allow_drop_facts', true), '') IN ('on', 'true', '1');
  n bigint;
BEGIN
  SELECT count(*) INTO n FROM trade_transfers_audit;
  IF n > 0 AND NOT allow THEN
    RAISE NOTICE 'trade_transfers_audit holds % row(s): kept (pass --drop-facts to drop it)', n;
    ALTER TABLE trade_transfers_audit ALTER COLUMN audit_id DROP DEFAULT;
  ELSE
    DROP TABLE trade_transfers_audit;
  END IF;
END
$audit$;
DROP FUNCTION fifo_transfer_json(text, text, text, text, numeric, timestamptz, text);
DROP FUNCTION fifo_fact_json(text, text, text, numeric, numeric, numeric, timestamptz, text, text, text);
DO $rules$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'trade_records'::regclass AND conname LIKE 'trade_records\_account\_%' LOOP
    EXECUTE format('ALTER TABLE trade_records DROP CONSTRAINT %I', c);
  END LOOP;
END
$rules$;
-- an adopted ledger keeps every column it was given (001)
DO $column$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM fifo_adoption) THEN
    ALTER TABLE trade_records DROP COLUMN account;
  END IF;
END
$column$;
DROP FUNCTION fifo_name_rules(text);
