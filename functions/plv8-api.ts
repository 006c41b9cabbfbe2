/**
 * The PLV8 3.x API the procedures may use — and nothing else, so that the same bundle
 * runs inside PostgreSQL (LANGUAGE plv8) and in the Node PLV8 host.
 */
export type Row = Record<string, unknown>;

export interface Plv8Cursor {
  fetch(n?: number): Row | Row[] | undefined;
  close(): void;
}

export interface Plv8Plan {
  execute(args?: unknown[]): Row[] | number;
  cursor(args?: unknown[]): Plv8Cursor;
  free(): void;
}

export interface Plv8 {
  execute(sql: string, args?: unknown[]): Row[] | number;
  prepare(sql: string, types?: string[]): Plv8Plan;
  subtransaction<T>(fn: () => T): T;
  elog(level: number, ...msgs: unknown[]): void;
  return_next(row: Row): void;
  quote_ident(s: string): string;
  quote_literal(s: string): string;
}

declare global {
  // eslint-disable-next-line no-var
  var plv8: Plv8;
  // log levels PLV8 installs as globals
  var DEBUG1: number;
  var NOTICE: number;
  var WARNING: number;
  var INFO: number;
  var LOG: number;
  var ERROR: number;
}

/** Rows of a query (PLV8 returns a row count for DML; a query always gives rows). */
export function query<T = Row>(sql: string, args?: unknown[]): T[] {
  const r = plv8.execute(sql, args ?? []);
  if (typeof r === 'number') throw new Error(`expected rows from: ${sql.slice(0, 60)}`);
  return r as T[];
}

export function exec(sql: string, args?: unknown[]): number {
  const r = plv8.execute(sql, args ?? []);
  return typeof r === 'number' ? r : r.length;
}
