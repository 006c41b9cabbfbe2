/**
 * `COPY ... FROM STDIN` with the plain `pg` client (no pg-copy-streams): a submittable that
 * answers CopyInResponse by streaming chunks of COPY text, waiting for the socket to drain so
 * a million rows never sit in memory at once.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import type pg from 'pg';

interface Conn {
  stream: Duplex;
  query(text: string): void;
  sendCopyFromChunk(b: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(msg: string): void;
}

class CopyFromStdin {
  private rowCount = 0;
  private failed = false;
  /** An error of the chunk source: reported instead of the server's answer to CopyFail. */
  private sourceError: unknown = null;
  private resolve!: (n: number) => void;
  private reject!: (e: unknown) => void;
  readonly done = new Promise<number>((res, rej) => {
    this.resolve = res;
    this.reject = rej;
  });
  private markSent!: () => void;
  /** Every chunk is handed to the socket (or the copy failed): the server finishes the statement. */
  readonly sent = new Promise<void>((res) => {
    this.markSent = res;
  });

  constructor(
    private readonly text: string,
    private readonly chunks: Iterable<string | Buffer>,
  ) {}

  submit(connection: Conn): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: Conn): void {
    void this.pump(connection);
  }

  private async pump(connection: Conn): Promise<void> {
    try {
      for (const chunk of this.chunks) {
        if (this.failed) return; // the server refused already; it drops what follows
        connection.sendCopyFromChunk(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
        if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
      }
      if (!this.failed) connection.endCopyFrom();
    } catch (e) {
      this.sourceError = e;
      if (!this.failed) connection.sendCopyFail(e instanceof Error ? e.message : String(e));
    } finally {
      this.markSent();
    }
  }

  handleCommandComplete(msg: { text: string }): void {
    this.rowCount = Number(msg.text.split(' ').pop());
  }

  // pg drops its active query on an ErrorResponse (ReadyForQuery never reaches this object): settle here.
  handleError(e: Error): void {
    this.failed = true;
    this.markSent();
    this.reject(this.sourceError ?? e);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.resolve(this.rowCount);
  }

  handleEmptyQuery(): void {}
}

/** Runs `sql` (a `COPY ... FROM STDIN`) with `chunks` of COPY text-format rows (UTF-8 when bytes); `done` is the row count. */
export function startCopyIn(client: pg.Client, sql: string, chunks: Iterable<string | Buffer>): { sent: Promise<void>; done: Promise<number> } {
  const q = new CopyFromStdin(sql, chunks);
  void client.query(q as unknown as pg.QueryConfig);
  return q;
}

/** startCopyIn to the end: the row count. */
export function copyIn(client: pg.Client, sql: string, chunks: Iterable<string>): Promise<number> {
  return startCopyIn(client, sql, chunks).done;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
/** A field in COPY's text format: backslash, tab, newline and CR escaped (no NULLs here). */
export function copyField(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}
