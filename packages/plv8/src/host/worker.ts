/**
 * The host's database thread. It owns one `pg` connection and answers one request at a time
 * from the main thread, which blocks on a SharedArrayBuffer flag (Atomics.wait) until the
 * reply is posted — that is what makes `plv8.execute` synchronous in the host.
 *
 * Statements go through a custom pg "submittable" that pipelines Parse/Bind/Describe/Execute
 * for several statements (SAVEPOINT, the statement, RELEASE) and a single Sync, so a
 * successful execute costs one round trip. All values travel as text; the main thread
 * converts them (PLV8 semantics) in the right realm.
 *
 * This file is bundled by esbuild when a host starts and run as an `eval` worker; `pg` is
 * loaded with a require rooted at the host's own location — or, in the compiled CLI, bundled
 * into the worker itself.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type pgTypes from 'pg';
import type {
  Field, Notice, PgErrorFields, Prefetch, Step, StepResult, WorkerInit, WorkerRequest, WorkerResponse, WorkerSession,
} from './protocol.ts';

declare const __FIFO_WORKER_BUNDLES_PG__: boolean | undefined;

const init = workerData as WorkerInit;
const pg = (typeof __FIFO_WORKER_BUNDLES_PG__ === 'boolean'
  ? require('pg') // resolved by esbuild at the compiled CLI's build
  : createRequire(init.requireFrom)('pg')) as typeof pgTypes;

/** Every column stays text: the main thread converts by type OID. */
const RAW_TYPES = { getTypeParser: () => (v: string) => v };

let client: pgTypes.Client;
let notices: Notice[] = [];
let fatal: Error | null = null;

function openClient(session: WorkerSession): pgTypes.Client {
  const c = new pg.Client({
    connectionString: session.connectionString,
    application_name: session.applicationName,
    types: RAW_TYPES as unknown as pgTypes.CustomTypesConfig,
  });
  c.on('notice', (n) => {
    const m = n as unknown as { severity?: string; message?: string; detail?: string; hint?: string };
    const notice: Notice = { severity: m.severity ?? 'NOTICE', message: m.message ?? '' };
    if (m.detail) notice.detail = m.detail;
    if (m.hint) notice.hint = m.hint;
    notices.push(notice);
  });
  c.on('error', (e) => {
    fatal = e;
  });
  return c;
}

/** The session: in workerData, or (a thread started early, before it was known) the first message. */
function session(): Promise<WorkerSession> {
  const { connectionString, applicationName, sessionSql } = init;
  if (connectionString !== undefined && applicationName !== undefined && sessionSql !== undefined) {
    return Promise.resolve({ connectionString, applicationName, sessionSql });
  }
  return new Promise((resolve) => parentPort?.once('message', (m: WorkerSession) => resolve(m)));
}

function errorFields(e: unknown): PgErrorFields {
  const x = e as Record<string, unknown> & { message?: string };
  const pick = (k: string) => (typeof x[k] === 'string' ? (x[k] as string) : undefined);
  const code = pick('code');
  const f: PgErrorFields = {
    message: x.message ?? String(e),
    sqlstate: code && /^[0-9A-Z]{5}$/.test(code) ? code : fatal ? '08006' : 'XX000',
  };
  const map: Array<[keyof PgErrorFields, string]> = [
    ['severity', 'severity'], ['detail', 'detail'], ['hint', 'hint'], ['context', 'where'], ['schema', 'schema'],
    ['table', 'table'], ['column', 'column'], ['dataType', 'dataType'], ['constraint', 'constraint'],
    ['internalQuery', 'internalQuery'], ['position', 'position'],
  ];
  for (const [to, from] of map) {
    const v = pick(from);
    if (v !== undefined) (f as unknown as Record<string, string>)[to] = v;
  }
  return f;
}

type Connection = {
  parse(q: { text: string; name?: string; types?: readonly number[] }): void;
  bind(c: { portal?: string; statement?: string; values?: ReadonlyArray<string | Uint8Array | null>; valueMapper?: (v: unknown) => unknown }): void;
  describe(m: { type: 'S' | 'P'; name?: string }): void;
  execute(c: { portal?: string; rows?: number }): void;
  sync(): void;
  sendCopyFail(msg: string): void;
  on(ev: string, fn: (msg: never) => void): void;
  removeListener(ev: string, fn: (msg: never) => void): void;
  stream: { cork?: () => void; uncork?: () => void };
};

/** node-postgres sends a Buffer parameter in the binary format; the thread boundary makes it a Uint8Array. */
const asParam = (v: unknown) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);

/** A pg submittable running `steps` with one Sync. */
class Pipeline {
  readonly results: StepResult[] = [];
  private cur = 0;
  private con: Connection | null = null;

  constructor(
    private readonly steps: readonly Step[],
    private readonly done: (err: unknown, results: StepResult[]) => void,
  ) {
    for (let i = 0; i < steps.length; i++) this.results.push({ command: null, rowCount: null, fields: null, rows: [] });
  }

  private readonly onParamDesc = (msg: { dataTypeIDs: number[] }) => {
    const r = this.results[this.cur];
    if (r) r.paramTypes = msg.dataTypeIDs.slice();
  };

  private readonly onNoData = () => {
    if (this.steps[this.cur]?.describeOnly) this.cur++;
  };

  submit(con: Connection): void {
    this.con = con;
    con.on('parameterDescription', this.onParamDesc as (m: never) => void);
    con.on('noData', this.onNoData as (m: never) => void);
    con.stream.cork?.();
    for (const s of this.steps) {
      if (s.portal) {
        con.describe({ type: 'P', name: s.portal.name });
        con.execute({ portal: s.portal.name, rows: s.portal.rows });
        continue;
      }
      if (s.bindStmt === undefined) con.parse({ text: s.sql, name: s.stmt ?? '', types: s.types ?? [] });
      if (s.describeOnly) {
        con.describe({ type: 'S', name: s.stmt ?? '' });
        continue;
      }
      con.bind({ portal: '', statement: s.bindStmt ?? s.stmt ?? '', values: s.params ?? [], valueMapper: asParam });
      con.describe({ type: 'P', name: '' });
      con.execute({ portal: '', rows: 0 });
    }
    con.sync();
    con.stream.uncork?.();
  }

  handleRowDescription(msg: { fields: Array<{ name: string; dataTypeID: number; tableID: number; columnID: number }> }): void {
    const r = this.results[this.cur];
    if (!r) return;
    r.fields = msg.fields.map((f): Field => (f.tableID ? { name: f.name, oid: f.dataTypeID, table: f.tableID, column: f.columnID } : { name: f.name, oid: f.dataTypeID }));
    if (this.steps[this.cur]?.describeOnly) this.cur++;
  }

  handleDataRow(msg: { fields: Array<string | null> }): void {
    this.results[this.cur]?.rows.push(msg.fields);
  }

  handleCommandComplete(msg: { text: string }): void {
    const r = this.results[this.cur];
    if (r) {
      const parts = msg.text.split(' ');
      r.command = parts[0] ?? '';
      const last = parts[parts.length - 1];
      r.rowCount = parts.length > 1 && last !== undefined && /^\d+$/.test(last) ? Number(last) : null;
    }
    this.cur++;
  }

  handleEmptyQuery(): void {
    const r = this.results[this.cur];
    if (r) r.command = '';
    this.cur++;
  }

  /** An Execute with a row limit that left rows: its step is done. */
  handlePortalSuspended(): void {
    const r = this.results[this.cur];
    if (r) {
      r.command = 'FETCH';
      r.rowCount = r.rows.length;
    }
    this.cur++;
  }

  handleCopyInResponse(con: Connection): void {
    con.sendCopyFail('COPY FROM STDIN is not supported by the PLV8 host');
  }

  handleCopyData(): void {}

  /** pg's client drops the active query on ErrorResponse (Sync is already sent): finish here. */
  handleError(err: unknown): void {
    this.finish(err);
  }

  handleReadyForQuery(): void {
    this.finish(null);
  }

  private finished = false;

  private finish(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (this.con) {
      this.con.removeListener('parameterDescription', this.onParamDesc as (m: never) => void);
      this.con.removeListener('noData', this.onNoData as (m: never) => void);
    }
    this.done(err, this.results);
  }
}

/** The results gathered before a pipeline's error (rows the server sent before it), on the error. */
const PARTIAL = Symbol('partial results');

function runPipeline(steps: readonly Step[]): Promise<StepResult[]> {
  return new Promise((resolve, reject) => {
    const p = new Pipeline(steps, (err, results) => {
      if (!err) return resolve(results);
      if (typeof err === 'object' && err !== null) (err as { [PARTIAL]?: StepResult[] })[PARTIAL] = results;
      reject(err);
    });
    client.query(p as unknown as pgTypes.QueryConfig).catch?.(() => {});
  });
}

async function simple(sql: string): Promise<StepResult> {
  const res = (await client.query({ text: sql, rowMode: 'array' })) as unknown;
  const list = (Array.isArray(res) ? res : [res]) as pgTypes.QueryArrayResult[];
  const last = list[list.length - 1];
  if (!last) return { command: '', rowCount: null, fields: null, rows: [] };
  const hasRows = last.fields.length > 0 || (last.command === 'SELECT' && last.rows.length > 0);
  return {
    command: last.command ?? '',
    rowCount: last.rowCount ?? null,
    fields: hasRows ? last.fields.map((f): Field => (f.tableID ? { name: f.name, oid: f.dataTypeID, table: f.tableID, column: f.columnID } : { name: f.name, oid: f.dataTypeID })) : null,
    rows: last.rows as Array<Array<string | null>>,
  };
}

let spCounter = 0;

async function withSavepoint<T>(fn: (sp: string) => Promise<T>, onError?: (e: unknown) => Promise<T | undefined>): Promise<T> {
  const sp = `plv8_host_sp_${++spCounter}`;
  try {
    return await fn(sp);
  } catch (e) {
    // The savepoint may not exist (error in SAVEPOINT itself): then the transaction is lost.
    try {
      await client.query(`ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}`);
    } catch {
      /* reported by txStatus */
    }
    if (onError) {
      const r = await onError(e);
      if (r !== undefined) return r;
    }
    throw e;
  }
}

const MULTI = 'cannot insert multiple commands into a prepared statement';

async function handle(req: Exclude<WorkerRequest, { op: 'take' }>, speculative = false): Promise<WorkerResponse> {
  notices = [];
  const txStatus = () => (client as unknown as { _txStatus?: string })._txStatus ?? '?';
  try {
    if (fatal) throw fatal;
    let results: StepResult[];
    if (req.op === 'exec') {
      if (!req.savepoint) results = await runPipeline(req.steps);
      else {
        results = await withSavepoint(
          async (sp) => {
            const r = await runPipeline([{ sql: `SAVEPOINT ${sp}` }, ...req.steps, { sql: `RELEASE SAVEPOINT ${sp}` }]);
            return r.slice(1, -1);
          },
          // PLV8 runs a parameterless statement with SPI_exec, which accepts several commands.
          async (e) => {
            const only = req.steps.length === 1 ? req.steps[0] : undefined;
            if (!only || (only.params?.length ?? 0) > 0 || only.stmt || only.bindStmt || only.describeOnly) return undefined;
            if ((e as { message?: string }).message !== MULTI) return undefined;
            return withSavepoint(async (sp) => {
              await client.query(`SAVEPOINT ${sp}`);
              const r = await simple(only.sql);
              await client.query(`RELEASE SAVEPOINT ${sp}`);
              return [r];
            });
          },
        );
      }
    } else if (req.op === 'simple') {
      results = req.savepoint
        ? await withSavepoint(async (sp) => {
            await client.query(`SAVEPOINT ${sp}`);
            const r = await simple(req.sql);
            await client.query(`RELEASE SAVEPOINT ${sp}`);
            return [r];
          })
        : [await simple(req.sql)];
    } else {
      // Terminate is written now; the server's end of the socket is not waited for (the
      // host terminates this thread next, and nothing is left to read).
      client.end().catch(() => {});
      return { ok: true, results: [], notices, txStatus: 'I' };
    }
    return { ok: true, results, notices, txStatus: txStatus() };
  } catch (e) {
    const res: WorkerResponse = { ok: false, error: errorFields(e), notices, txStatus: txStatus() };
    if (fatal) res.fatal = true;
    // the step's own results sit after the SAVEPOINT step
    const partial = speculative ? (e as { [PARTIAL]?: StepResult[] } | null)?.[PARTIAL]?.[1] : undefined;
    if (partial) res.partial = partial;
    return res;
  }
}

// ---- speculative cursor reads (Prefetch in protocol.ts) ----

/**
 * Everything on the connection runs in the order it was asked for, one at a time: a request
 * waits for a speculative FETCH started before it, including the rollback of its savepoint
 * when it failed, so no statement of the host ever meets an aborted transaction.
 */
let queue: Promise<unknown> = Promise.resolve();

function enqueue<T>(fn: () => Promise<T>): Promise<T> {
  const p = queue.then(fn);
  queue = p.catch(() => {});
  return p;
}

/** The replies of speculative reads not yet taken, by cursor (at most one each). */
const kept = new Map<string, Promise<WorkerResponse>>();

function rowsOf(r: StepResult): number {
  return r.packed ? r.packed.lines.length : r.rows.length;
}

function speculate(pf: Prefetch, first: StepResult | undefined): boolean {
  if (!first || rowsOf(first) !== pf.ifRows || kept.has(pf.cursor)) return false;
  const p = enqueue(async () => {
    const step: Step = { sql: `FETCH FORWARD ${pf.rows} FROM ${pf.cursor}`, portal: { name: pf.cursor, rows: pf.rows } };
    const res = await handle({ op: 'exec', steps: [step], savepoint: true }, true);
    packResponse(res); // here, while the host thread works, not when it is taken
    return res;
  });
  kept.set(pf.cursor, p);
  return true;
}

async function answer(req: WorkerRequest): Promise<WorkerResponse> {
  if (req.op !== 'close' && req.drop) {
    if (req.drop === true) kept.clear();
    else for (const c of req.drop) kept.delete(c);
  }
  if (req.op !== 'take') return handle(req);
  const p = kept.get(req.cursor);
  kept.delete(req.cursor);
  if (!p) return { ok: false, error: { message: `no speculative read of cursor ${req.cursor} is kept`, sqlstate: 'XX000' }, notices: [], txStatus: '?' };
  return p;
}

/** Below this many rows the arrays cross as they are. */
const PACK_ROWS = 64;

/**
 * One string per row instead of one per field: the structured clone copies a few thousand
 * buffers and the host thread splits them, where it had to deserialize every field.
 */
function packRows(r: StepResult): void {
  if (r.rows.length < PACK_ROWS) return;
  const lines: string[] = new Array(r.rows.length);
  const nulls: number[] = [];
  let k = 0;
  for (let i = 0; i < r.rows.length; i++) {
    const row = r.rows[i] as Array<string | null>;
    for (let j = 0; j < row.length; j++, k++) if (row[j] === null) nulls.push(k);
    lines[i] = row.join('\0'); // join writes null as ''
  }
  r.packed = { lines, nulls };
  r.rows = [];
}

function packResponse(res: WorkerResponse): void {
  if (res.ok) for (const r of res.results) packRows(r);
  else if (res.partial) packRows(res.partial);
}

function reply(res: WorkerResponse): void {
  packResponse(res);
  init.port.postMessage(res);
  Atomics.store(init.flag, 0, 1);
  Atomics.notify(init.flag, 0);
}

process.on('uncaughtException', (e) => {
  fatal = e instanceof Error ? e : new Error(String(e));
  reply({ ok: false, error: errorFields(e), notices, txStatus: '?', fatal: true });
});

async function main(): Promise<void> {
  const s = await session();
  try {
    client = openClient(s);
    await client.connect();
    // one round trip for all of them (the simple protocol runs a list of statements in order)
    if (s.sessionSql.length > 0) await client.query(s.sessionSql.join(';\n'));
  } catch (e) {
    parentPort?.postMessage({ type: 'failed', error: errorFields(e) });
    return;
  }
  init.port.on('message', (req: WorkerRequest) => {
    enqueue(() => answer(req))
      .then((res) => {
        // queued before the reply is posted: whatever the host sends next runs after it
        if (res.ok && req.op !== 'close' && req.prefetch) res.prefetching = speculate(req.prefetch, res.results[0]);
        reply(res);
      }, (e) => reply({ ok: false, error: errorFields(e), notices, txStatus: '?' }))
      .finally(() => {
        if (req.op === 'close') init.port.close();
      });
  });
  parentPort?.postMessage({ type: 'ready', backendPid: (client as unknown as { processID: number }).processID });
}

void main();
