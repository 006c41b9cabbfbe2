/**
 * What an opening-balance buy does to the other sells of its symbol. An opening balance dated
 * before other sells is inventory they may consume first (FIFO takes the oldest lot), so it can
 * re-match many sells and move the symbol's PnL, not only match its own sell. The preview finds
 * out exactly by doing it: the buy is inserted and the symbol recomputed by the real procedure
 * in one transaction that is then rolled back (nothing is written, nothing is notified).
 */
import type pg from 'pg';
import { Plv8Host } from '@fifo-ledger/plv8/host';
import { callFifoCompute } from '../compute/procedure-calls.ts';
import { plv8ProceduresInstalled, type ProcedureSession } from '../compute/procedure-host.ts';
import { openSession, SESSION_SQL } from '../db/connect.ts';
import {
  insertOpeningBalance, matchChange, onClient, sellMatches,
  type MatchChange, type OpeningInput, type ReviewItem, type RunSql, type SellMatch,
} from '../queries/reviews.ts';

const APPLICATION_NAME = 'fifo-ledger review preview';

/** One transaction that is always rolled back: its statements, and the procedures called inside it. */
interface WhatIf {
  run: RunSql;
  /** A session whose calls run inside the open transaction (no commit of their own). */
  procedures: ProcedureSession;
  rollback(): Promise<void>;
}

/** In the database when the PLV8 procedures are installed, else in the Node host: as the recompute will run. */
async function openWhatIf(client: pg.Client, url: string): Promise<WhatIf> {
  if (await plv8ProceduresInstalled(client)) {
    const c = await openSession(url, APPLICATION_NAME);
    await c.query('BEGIN');
    return {
      run: onClient(c),
      procedures: {
        kind: 'plv8',
        async callInTransaction(name, args) {
          const { rows } = await c.query(`SELECT ${name}(${args.map((_, i) => `$${i + 1}`).join(', ')}) AS result`, args);
          return rows[0]?.result;
        },
        close: async () => {},
      },
      rollback: async () => {
        await c.query('ROLLBACK').catch(() => {});
        await c.end();
      },
    };
  }
  const host = await Plv8Host.open({ connectionString: url, begin: false, applicationName: APPLICATION_NAME, sessionSql: SESSION_SQL });
  host.begin();
  return {
    run: async (sql, params) => {
      const r = host.execute(sql, params);
      return typeof r === 'number' ? [] : r;
    },
    procedures: { kind: 'client', callInTransaction: async (name, args) => host.call(name, args), close: async () => {} },
    rollback: async () => {
      host.rollback();
      await host.close();
    },
  };
}

/** The symbol's sells as they are matched now (before the opening balance is written). */
export function currentMatches(client: pg.Client, item: ReviewItem): Promise<SellMatch[]> {
  return sellMatches(onClient(client), item.allocation_version, item.symbol);
}

/** What writing `opening` and recomputing would change, found in a rolled-back transaction. */
export async function previewOpening(client: pg.Client, url: string, item: ReviewItem, opening: OpeningInput): Promise<MatchChange> {
  const before = await currentMatches(client, item);
  const w = await openWhatIf(client, url);
  try {
    await insertOpeningBalance(w.run, opening);
    const { symbols } = await callFifoCompute(w.procedures, {
      allocation_version: item.allocation_version, symbols: [item.symbol], mode: 'full',
      // no run is logged for a preview
      computation_id: null as unknown as string,
    });
    const failed = symbols.find((s) => s.status !== 'ok');
    if (failed) throw new Error(`previewing the opening balance: recomputing ${item.symbol} failed: ${failed.error ?? 'unknown error'}`);
    return await matchChange(w.run, item.allocation_version, item.symbol, item.item_key, before);
  } finally {
    await w.rollback();
  }
}

/** What the written opening balance and the recompute changed, against the matches read before. */
export function appliedChange(client: pg.Client, item: ReviewItem, before: readonly SellMatch[]): Promise<MatchChange> {
  return matchChange(onClient(client), item.allocation_version, item.symbol, item.item_key, before);
}

const signed = (d: string) => (d.startsWith('-') ? d : `+${d}`);

/** The change in words, amounts exact (`would` for a preview). */
export function describeChange(c: MatchChange, symbol: string, sell: string, would: boolean): string {
  const moves = would ? 'would move' : 'moved';
  const others = c.other_sells === 0
    ? `no other sell of ${symbol} ${would ? 'would be' : 'was'} re-matched`
    : `${c.other_sells} other sell(s) of ${symbol} ${would ? 'would be' : 'were'} re-matched, their PnL ${moves} by ${signed(c.other_pnl)} ${c.quote}`;
  return `${others}; sell ${sell}'s PnL ${moves} by ${signed(c.sell_pnl)} ${c.quote}; ${symbol} in total by ${signed(c.symbol_pnl)} ${c.quote}`;
}
