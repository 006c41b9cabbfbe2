/** Messages between the host (main thread) and its database worker thread. */
import type { MessagePort } from 'node:worker_threads';

/** A parameter as sent: text, the binary form (binary-arrays.ts), or null for SQL NULL. */
export type ParamValue = string | Uint8Array | null;

/** One statement of a pipelined request (extended query protocol). */
export interface Step {
  sql: string;
  /** Parameter values: text format, or binary format for a Uint8Array (null = SQL NULL). */
  params?: ReadonlyArray<ParamValue>;
  /** Parameter type OIDs sent with Parse (0 or missing = the server infers the type). */
  types?: readonly number[];
  /** Parse into this named (session-level) statement instead of the unnamed one. */
  stmt?: string;
  /** Parse and Describe the statement only: returns its parameter types and columns. */
  describeOnly?: boolean;
  /** Bind and execute this already prepared named statement (`sql` is then only informative). */
  bindStmt?: string;
  /**
   * Describe and Execute this open portal (a cursor) for at most `rows` rows instead (`sql`
   * is then only informative): its next rows, as FETCH FORWARD would read them, but sent as
   * they are made, so those before an error still arrive (a FETCH sends none then).
   */
  portal?: { name: string; rows: number };
}

export interface Field {
  name: string;
  oid: number;
  /** Source table OID and column number, when the column is a plain table column. */
  table?: number;
  column?: number;
}

export interface StepResult {
  /** Command tag verb (SELECT, INSERT, ...); null for Describe-only steps. */
  command: string | null;
  rowCount: number | null;
  /** Null when the statement returns no row description (plain DML, utility). */
  fields: Field[] | null;
  rows: Array<Array<string | null>>;
  /**
   * Many rows cross the thread boundary as one text per row instead (see packRows): its fields
   * joined by NUL, which a PostgreSQL text value cannot hold; NULL fields are '' there and listed
   * in `nulls` (indexes into the flat field list). `rows` is then empty. One text per row, not
   * one per result: a value split out of a text keeps that text alive (V8 slices), and a row's
   * text is no bigger than its own fields, so an open lot kept for long pins nothing more.
   */
  packed?: { lines: string[]; nulls: number[] };
  paramTypes?: number[];
}

/** PostgreSQL ErrorResponse fields (and client-side failures with sqlstate 08006/XX000). */
export interface PgErrorFields {
  message: string;
  sqlstate: string;
  severity?: string;
  detail?: string;
  hint?: string;
  context?: string;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  constraint?: string;
  internalQuery?: string;
  position?: string;
}

export interface Notice {
  severity: string;
  message: string;
  detail?: string;
  hint?: string;
}

/**
 * A speculative read started once the request it rides on has succeeded: the next `rows` rows
 * of `cursor` are read at once, in their own savepoint, while the host thread goes on, and the
 * reply is kept for a later `take`. Only when the request's first step returned exactly
 * `ifRows` rows.
 */
export interface Prefetch {
  cursor: string;
  rows: number;
  ifRows: number;
}

/** What every request may also carry about kept speculative reads (dropped before it runs). */
interface PrefetchControl {
  prefetch?: Prefetch;
  /** Drops the kept reads of these cursors, or (`true`) all of them. */
  drop?: readonly string[] | true;
}

export type WorkerRequest =
  /**
   * Runs the steps in one round trip. With `savepoint`, they are wrapped in
   * SAVEPOINT … RELEASE; on error the savepoint is rolled back (and released) so the
   * transaction stays usable — PLV8's per-execute subtransaction.
   */
  | ({ op: 'exec'; steps: Step[]; savepoint: boolean } & PrefetchControl)
  /** A simple-protocol query (may hold several statements; the last result is returned). */
  | ({ op: 'simple'; sql: string; savepoint: boolean } & PrefetchControl)
  /** The kept reply of the cursor's speculative read (waiting for it if it still runs). */
  | ({ op: 'take'; cursor: string } & PrefetchControl)
  | { op: 'close' };

export type WorkerResponse =
  | { ok: true; results: StepResult[]; notices: Notice[]; txStatus: string; prefetching?: boolean }
  | {
      ok: false; error: PgErrorFields; notices: Notice[]; txStatus: string; fatal?: boolean;
      /** A failed speculative FETCH: the rows the server sent before its error, in order. */
      partial?: StepResult;
    };

/** Startup messages on the worker's parentPort. */
export type WorkerEvent = { type: 'ready'; backendPid: number } | { type: 'failed'; error: PgErrorFields };

/** The session a worker opens: in its workerData, or posted later to a worker started early. */
export interface WorkerSession {
  connectionString: string;
  applicationName: string;
  sessionSql: string[];
}

export interface WorkerInit extends Partial<WorkerSession> {
  port: MessagePort;
  flag: Int32Array;
  requireFrom: string;
}
