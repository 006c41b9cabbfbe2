/**
 * COPY ... FROM STDIN with the plain `pg` client and no pg-copy-streams: a "submittable"
 * (the same mechanism the Node host's worker already uses for its pipelined statements)
 * that answers CopyInResponse with CopyData chunks and CopyDone.
 */
import type pg from 'pg';

interface Conn { query(text: string): void; sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }

class CopyFromStdin {
  rowCount = 0;
  private error: Error | null = null;
  private resolve!: (n: number) => void;
  private reject!: (e: Error) => void;
  readonly done = new Promise<number>((res, rej) => { this.resolve = res; this.reject = rej; });
  constructor(private readonly text: string, private readonly data: string) {}
  submit(connection: Conn): void { connection.query(this.text); }
  handleCopyInResponse(connection: Conn): void {
    const buf = Buffer.from(this.data, 'utf8');
    const CHUNK = 1 << 20;
    for (let i = 0; i < buf.length; i += CHUNK) connection.sendCopyFromChunk(buf.subarray(i, i + CHUNK));
    connection.endCopyFrom();
  }
  handleCommandComplete(msg: { text: string }): void { this.rowCount = Number(msg.text.split(' ').pop()); }
  // pg drops its active query on an ErrorResponse: ReadyForQuery never reaches us, so settle here
  handleError(e: Error): void { this.error = e; this.reject(e); }
  handleReadyForQuery(): void { if (this.error) this.reject(this.error); else this.resolve(this.rowCount); }
  handleEmptyQuery(): void {}
}

/** Runs `COPY <table> [(<columns>)] FROM STDIN` with `data` in COPY's text format; returns the row count. */
export function copyFrom(client: pg.Client, table: string, data: string, columns?: string): Promise<number> {
  const q = new CopyFromStdin(`COPY ${table}${columns ? ` (${columns})` : ''} FROM STDIN`, data);
  void client.query(q as unknown as pg.QueryConfig);
  return q.done;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
/** A field in COPY's text format: \N for NULL; backslash, tab, newline, CR escaped. */
export function copyField(v: string | number | null): string {
  if (v === null) return '\\N';
  const s = String(v);
  return NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}
