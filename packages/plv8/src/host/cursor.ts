/**
 * PLV8's cursors (`plan.cursor()`) as SQL cursors, with the next chunk read ahead.
 *
 * After a forward fetch(n) of n ≥ `prefetchRows()` rows that returned all n, the database
 * thread runs the cursor's next `FETCH FORWARD n` at once, in its own savepoint, while the
 * procedure works on the rows it has; the next fetch takes that reply (waiting if it still
 * runs). What the procedure sees is what it would see without it:
 * - rows read ahead are served first, by any fetch or move; the rest comes from the server;
 * - an error of the read-ahead FETCH is kept with the rows sent before it and thrown by the
 *   fetch or move that reaches it, as the FETCH would have thrown it (a failed portal, the
 *   transaction intact: the worker runs nothing else until that savepoint is rolled back);
 * - before anything backward (or fetch(0), which re-reads the current row) the server is moved
 *   back over what was read ahead (MOVE BACKWARD, so a cursor that cannot scan backward fails
 *   as that operation would), and the cursor never reads ahead again;
 * - close and the end of the transaction drop what was read ahead; a subtransaction rolled
 *   back drops it for the cursors opened inside it (the server closed them), and keeps it for
 *   older cursors (their position is not rolled back: PostgreSQL's cursors are not
 *   transactional, so the rows read ahead are the rows their next fetch would read).
 *
 * A FETCH run earlier returns the same rows only when its rows depend on nothing but the
 * cursor's snapshot (taken at DECLARE), its parameters and functions evaluated in it: so only
 * cursors whose query calls no VOLATILE function read ahead (a volatile function sees later
 * writes of the transaction, or has effects of its own). `SAFE_SQL` checks that against the
 * catalog, conservatively: no name in the query text (or in the views it names, recursively)
 * may be that of a volatile function or aggregate, of a foreign table or sequence, a table
 * with row security or a domain with constraints; no row locks (FOR UPDATE/SHARE); and no
 * operator, cast, type I/O, operator-class, range or conversion function (used without being
 * named) anywhere may be volatile. STABLE functions qualify: PostgreSQL already evaluates them
 * at the cursor's start (index keys) or at its first FETCH (below a sort) as it sees fit.
 */
import type { Bridge, Cursor, Row } from './api.ts';
import type { Field, PgErrorFields, Prefetch, Step, StepResult, WorkerRequest, WorkerResponse } from './protocol.ts';

/** One row if nothing in the query, per its words $1, can make a FETCH run earlier differ. */
export const SAFE_SQL = `
  WITH RECURSIVE words(w) AS (
      SELECT x::name FROM unnest($1::text[]) x
    UNION
      SELECT v::name
        FROM words JOIN pg_catalog.pg_class c ON c.relname = words.w AND c.relkind = 'v',
             LATERAL regexp_matches(pg_catalog.pg_get_viewdef(c.oid), '([[:alpha:]_][[:alnum:]_$]*)', 'g') m,
             LATERAL (VALUES (m[1]), (lower(m[1]))) AS f(v)),
  named AS MATERIALIZED (SELECT p.oid, p.provolatile FROM words JOIN pg_catalog.pg_proc p ON p.proname = words.w),
  vol AS MATERIALIZED (SELECT oid FROM pg_catalog.pg_proc WHERE provolatile = 'v')
  SELECT 1
   WHERE NOT EXISTS (SELECT FROM words WHERE lower(w) IN ('update', 'share'))
     AND NOT EXISTS (SELECT FROM named WHERE named.provolatile = 'v')
     AND NOT EXISTS (SELECT FROM named JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = named.oid,
                             unnest(ARRAY[a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn,
                                          a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn]::oid[]) AS fn(oid)
                             JOIN pg_catalog.pg_proc f ON f.oid = fn.oid
                      WHERE f.provolatile = 'v')
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN words ON c.relname = words.w
                      WHERE c.relkind IN ('f', 'S') OR c.relrowsecurity)
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type t JOIN words ON t.typname = words.w
                      WHERE t.typtype = 'd' AND EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid))
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_operator o WHERE o.oprcode IN (SELECT oid FROM vol))
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_cast k WHERE k.castfunc IN (SELECT oid FROM vol))
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_type t WHERE t.typinput IN (SELECT oid FROM vol) OR t.typoutput IN (SELECT oid FROM vol))
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_amproc a WHERE a.amproc IN (SELECT oid FROM vol))
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_range r WHERE r.rngcanonical IN (SELECT oid FROM vol))
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_conversion v WHERE v.conproc IN (SELECT oid FROM vol))`;

/**
 * Every word and quoted identifier of a query text (strings and comments too: more is safer),
 * as written and folded the ways PostgreSQL (ASCII only) and JS fold case: the names they can be.
 */
export function queryWords(sql: string): string[] {
  const out = new Set<string>();
  const add = (w: string) => {
    out.add(w);
    out.add(w.replace(/[A-Z]+/g, (c) => c.toLowerCase()));
    out.add(w.toLowerCase());
  };
  for (const m of sql.matchAll(/[\p{L}_][\p{L}\p{N}_$]*/gu)) add(m[0]);
  for (const m of sql.matchAll(/"((?:[^"]|"")*)"/g)) add((m[1] as string).replace(/""/g, '"'));
  return [...out];
}

type Raw = Array<Array<string | null>>;

interface Ahead {
  rows: Raw;
  fields: Field[] | null;
  /** Rows already given to the procedure. */
  pos: number;
  /** The error the server raised after `rows` (its portal has failed). */
  error: PgErrorFields | null;
}

interface State {
  name: string;
  sql: string;
  /** The transaction it was declared in (bridge.transaction()). */
  tx: number;
  /** The subtransactions open at its DECLARE. */
  scopes: readonly number[];
  /** Still allowed to read ahead (not after a backward move, a transaction's end, ...). */
  readAhead: boolean;
  /** Rows asked by the speculative FETCH the worker runs or keeps for it (0: none). */
  inflight: number;
  ahead: Ahead | null;
  /** The server ran off the end of the rows read ahead: one row further than the procedure. */
  pastEnd: boolean;
}

export interface CursorDeps {
  bridge: Bridge;
  /** A request's reply (the bridge's, errors of the host turned into this realm's). */
  request(req: WorkerRequest): WorkerResponse;
  makeError(f: PgErrorFields): Error;
  toJs(r: StepResult): Row[] | number;
  rawRows(r: StepResult): Raw;
}

/** Int32Value, as PLV8 reads counts. */
const int32 = (v: unknown): number => Number(v) | 0;
const direction = (count: number) => (count < 0 ? `BACKWARD ${-count}` : `FORWARD ${count}`);

export function createCursors(deps: CursorDeps) {
  const { bridge } = deps;
  const live = new Set<State>();
  const safeSql = new Map<string, boolean>();

  function run(req: WorkerRequest): WorkerResponse {
    const res = deps.request(req);
    if (!res.ok) throw deps.makeError(res.error);
    return res;
  }

  const firstResult = (res: WorkerResponse): StepResult => {
    const r = res.ok ? res.results[res.results.length - 1] : undefined;
    if (!r) throw new Error('no result from the database worker');
    return r;
  };

  function forget(st: State): void {
    st.readAhead = false;
    st.inflight = 0;
    st.ahead = null;
    st.pastEnd = false;
  }

  /**
   * Another transaction, or a subtransaction it was opened in rolled back (in either realm):
   * the server closed the cursor (the worker's read for it is dropped or never taken).
   */
  function sync(st: State): void {
    if (st.tx !== bridge.transaction() || bridge.rolledBack(st.scopes)) {
      forget(st);
      live.delete(st);
    }
  }

  function readAheadOf(st: State, n: number): Prefetch | undefined {
    const min = bridge.prefetchRows();
    if (min <= 0 || n < min || !st.readAhead || safeSql.get(st.sql) !== true) return undefined;
    return { cursor: st.name, rows: n, ifRows: n };
  }

  /** The worker's kept read for the cursor, as its rows ahead; with `next`, the one after is started. */
  function take(st: State, next: boolean): void {
    const n = st.inflight;
    st.inflight = 0;
    const pf = next ? readAheadOf(st, n) : undefined;
    const res = deps.request({ op: 'take', cursor: st.name, ...(pf ? { prefetch: pf } : {}) });
    if (res.ok) {
      const r = firstResult(res);
      const rows = deps.rawRows(r);
      st.ahead = { rows, fields: r.fields, pos: 0, error: null };
      if (rows.length < n) st.pastEnd = true;
      if (res.prefetching) st.inflight = n;
      return;
    }
    if (res.fatal || !res.partial) throw deps.makeError(res.error);
    st.ahead = { rows: deps.rawRows(res.partial), fields: res.partial.fields, pos: 0, error: res.error };
  }

  /**
   * A full fetch(n) of a query not yet judged: judge it, and read ahead in the same round trip
   * when it qualifies (the worker starts the FETCH when the judgement returned its one row).
   */
  function judge(st: State, n: number): void {
    const min = bridge.prefetchRows();
    if (min <= 0 || n < min || !st.readAhead || safeSql.has(st.sql)) return;
    const pf: Prefetch = { cursor: st.name, rows: n, ifRows: 1 };
    let res: WorkerResponse;
    try {
      res = deps.request({ op: 'exec', steps: [{ sql: SAFE_SQL, params: [toArrayLiteral(queryWords(st.sql))] }], savepoint: true, prefetch: pf });
    } catch {
      safeSql.set(st.sql, false);
      return;
    }
    safeSql.set(st.sql, res.ok && deps.rawRows(firstResult(res)).length === 1);
    if (res.ok && res.prefetching) st.inflight = n;
  }

  /** fetch(k) or move(k) forward (k ≥ 1): rows ahead first, then the server. */
  function forward(st: State, count: number, fetching: boolean): StepResult | undefined {
    sync(st);
    let k = count;
    let got: Raw = [];
    let fields: Field[] | null = null;
    if (st.inflight > 0) take(st, fetching && count === st.inflight);
    const a = st.ahead;
    if (a) {
      const left = a.rows.length - a.pos;
      const m = Math.min(k, left);
      if (fetching) got = a.rows.slice(a.pos, a.pos + m);
      fields = a.fields;
      a.pos += m;
      if (k <= left) {
        if (a.pos === a.rows.length && a.error === null) st.ahead = null;
        return fetching ? { command: 'FETCH', rowCount: got.length, fields, rows: got } : undefined;
      }
      st.ahead = null;
      // the server's FETCH would have reached the row that failed
      if (a.error) throw deps.makeError(a.error);
      k -= m;
    }
    // past the rows ahead the server and the procedure are at the same place again
    st.pastEnd = false;
    const step: Step = { sql: `${fetching ? 'FETCH' : 'MOVE'} FORWARD ${k} FROM ${st.name}` };
    const pf = fetching ? readAheadOf(st, count) : undefined;
    const res = run({ op: 'exec', steps: [step], savepoint: true, ...(pf ? { prefetch: { ...pf, ifRows: k } } : {}) });
    if (res.ok && res.prefetching) st.inflight = count;
    if (!fetching) return undefined;
    const r = firstResult(res);
    const rows = deps.rawRows(r);
    if (st.inflight === 0 && rows.length === k && got.length === 0) judge(st, count);
    return { command: 'FETCH', rowCount: got.length + rows.length, fields: r.fields ?? fields, rows: got.length === 0 ? rows : got.concat(rows) };
  }

  /** Anything but a forward fetch or move: first the server goes back to where the procedure is. */
  function realigned(st: State, sql: string): StepResult {
    sync(st);
    if (st.inflight > 0) take(st, false);
    const a = st.ahead;
    const back = (a ? a.rows.length - a.pos : 0) + (st.pastEnd ? 1 : 0);
    forget(st);
    if (a?.error) throw deps.makeError(a.error);
    const steps: Step[] = back > 0 ? [{ sql: `MOVE BACKWARD ${back} FROM ${st.name}` }, { sql }] : [{ sql }];
    return firstResult(run({ op: 'exec', steps, savepoint: true }));
  }

  /** PLV8's cursor: a closed one is "not found" for every method, including close. */
  function open(name: string, sql: string): Cursor {
    const st: State = {
      name, sql, tx: bridge.transaction(), scopes: bridge.subtransactions(), readAhead: true, inflight: 0, ahead: null, pastEnd: false,
    };
    live.add(st);
    let isOpen = true;
    const check = () => {
      if (!isOpen) throw new Error('cannot find cursor');
    };
    return {
      fetch(...args: unknown[]) {
        check();
        const wantArray = args.length >= 1;
        const count = wantArray ? int32(args[0]) : 1;
        const r = count > 0 ? forward(st, count, true) : realigned(st, `FETCH ${direction(count)} FROM ${name}`);
        const rows = deps.toJs(r as StepResult) as Row[];
        if (rows.length === 0) return undefined;
        return wantArray ? rows : rows[0];
      },
      move(...args: unknown[]) {
        check();
        if (args.length < 1) return;
        const count = int32(args[0]);
        if (count > 0) {
          forward(st, count, false);
          return;
        }
        sync(st);
        // MOVE 0 moves nothing: with rows ahead the portal is live (as it is without them)
        if (count === 0 && (st.inflight > 0 || st.ahead)) return;
        realigned(st, `MOVE ${direction(count)} FROM ${name}`);
      },
      close() {
        check();
        isOpen = false;
        sync(st);
        const drop = st.inflight > 0 ? [name] : undefined;
        forget(st);
        live.delete(st);
        run({ op: 'exec', steps: [{ sql: `CLOSE ${name}` }], savepoint: true, ...(drop ? { drop } : {}) });
        return 1;
      },
    };
  }

  return {
    open,
    /** The names of the cursors opened in a subtransaction rolled back whose reads to drop. */
    rolledBack(id: number): string[] {
      const drop: string[] = [];
      for (const st of live) {
        if (!st.scopes.includes(id)) continue;
        if (st.inflight > 0) drop.push(st.name);
        forget(st);
        live.delete(st);
      }
      return drop;
    },
    clearCaches(): void {
      safeSql.clear();
      for (const st of live) sync(st);
    },
  };
}

/** A text[] literal of words (any character but a NUL quoted). */
function toArrayLiteral(words: readonly string[]): string {
  return `{${words.map((w) => `"${w.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
