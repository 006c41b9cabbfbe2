-- Baseline 1: what a Postgres user writes first — a PL/pgSQL loop per symbol with a FIFO
-- queue of open lots (arrays and a head index), cumulative-rounding fee shares, and one
-- INSERT ... SELECT unnest(...) per symbol (not one INSERT per row: that would be ~5x slower
-- and no careful user writes it). Writes the same columns as fifo_compute into
-- fifo_allocations under allocation version `v`; returns the number of rows written.
-- Processing order (docs/CONTRACT.md §5.1): order_time, buys before sells, order_id COLLATE "C".
-- A sell the queue cannot cover gets an unmatched row (buy columns NULL), as in fifo_compute.
CREATE OR REPLACE FUNCTION bench_fifo_plpgsql(v int) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
  sym      text;
  t        record;
  -- the lot queue: lots head..tail are open
  q_id     text[];
  q_price  numeric[];
  q_time   timestamptz[];
  q_size   numeric[];
  q_fee    numeric[];
  q_left   numeric[];
  q_taken  numeric[];   -- the buy's fee already shared out (cumulative rounding)
  head     int;
  tail     int;
  -- the symbol's allocation rows
  o_sell   text[];
  o_seq    int[];
  o_buy    text[];
  o_qty    numeric[];
  o_bprice numeric[];
  o_sprice numeric[];
  o_btime  timestamptz[];
  o_stime  timestamptz[];
  o_bfee   numeric[];
  o_sfee   numeric[];
  need     numeric;
  take     numeric;
  seq      int;
  s_taken  numeric;
  cum      numeric;
  bfee     numeric;
  sfee     numeric;
  total    bigint := 0;
  n        bigint;
BEGIN
  FOR sym IN SELECT DISTINCT symbol FROM trade_records ORDER BY 1 LOOP
    q_id := '{}'; q_price := '{}'; q_time := '{}'; q_size := '{}'; q_fee := '{}'; q_left := '{}'; q_taken := '{}';
    head := 1; tail := 0;
    o_sell := '{}'; o_seq := '{}'; o_buy := '{}'; o_qty := '{}'; o_bprice := '{}'; o_sprice := '{}';
    o_btime := '{}'; o_stime := '{}'; o_bfee := '{}'; o_sfee := '{}';

    FOR t IN
      SELECT order_id, side, size, price, total_fees_usd AS fee, order_time
        FROM trade_records WHERE symbol = sym
       ORDER BY order_time, side = 'sell', order_id COLLATE "C"
    LOOP
      IF t.side = 'buy' THEN
        tail := tail + 1;
        q_id[tail] := t.order_id; q_price[tail] := t.price; q_time[tail] := t.order_time;
        q_size[tail] := t.size; q_fee[tail] := t.fee; q_left[tail] := t.size; q_taken[tail] := 0;
        CONTINUE;
      END IF;

      need := t.size; seq := 0; s_taken := 0;
      WHILE need > 0 LOOP
        seq := seq + 1;
        IF head > tail THEN  -- nothing left to consume: the unmatched remainder
          o_sell := o_sell || t.order_id; o_seq := o_seq || seq; o_buy := o_buy || NULL::text;
          o_qty := o_qty || need; o_bprice := o_bprice || NULL::numeric; o_sprice := o_sprice || t.price;
          o_btime := o_btime || NULL::timestamptz; o_stime := o_stime || t.order_time;
          o_bfee := o_bfee || NULL::numeric; o_sfee := o_sfee || (t.fee - s_taken);
          EXIT;
        END IF;
        take := least(need, q_left[head]);
        need := need - take;
        -- sell fee share: cumulative rounding along the sell's rows
        cum := bench_round_share(t.fee, t.size - need, t.size);
        sfee := cum - s_taken; s_taken := cum;
        -- buy fee share: cumulative rounding along the lot's consumption
        q_left[head] := q_left[head] - take;
        cum := bench_round_share(q_fee[head], q_size[head] - q_left[head], q_size[head]);
        bfee := cum - q_taken[head]; q_taken[head] := cum;

        o_sell := o_sell || t.order_id; o_seq := o_seq || seq; o_buy := o_buy || q_id[head];
        o_qty := o_qty || take; o_bprice := o_bprice || q_price[head]; o_sprice := o_sprice || t.price;
        o_btime := o_btime || q_time[head]; o_stime := o_stime || t.order_time;
        o_bfee := o_bfee || bfee; o_sfee := o_sfee || sfee;
        IF q_left[head] = 0 THEN head := head + 1; END IF;
      END LOOP;
    END LOOP;

    INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id,
        allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd,
        cost_basis_usd, proceeds_usd, pnl_usd)
    SELECT v, sym, u.sell, u.seq, u.buy, u.qty, u.bprice, u.sprice, u.btime, u.stime, u.bfee, u.sfee,
           u.bprice * u.qty + u.bfee,
           u.sprice * u.qty - u.sfee,
           (u.sprice * u.qty - u.sfee) - (u.bprice * u.qty + u.bfee)
      FROM unnest(o_sell, o_seq, o_buy, o_qty, o_bprice, o_sprice, o_btime, o_stime, o_bfee, o_sfee)
           AS u(sell, seq, buy, qty, bprice, sprice, btime, stime, bfee, sfee);
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
  END LOOP;
  RETURN total;
END
$fn$;
