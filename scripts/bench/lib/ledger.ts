/**
 * The bench ledger: generated (no oversells, so the baselines are exact on it), written as
 * CSV to a world-readable temp file and loaded with COPY. Server-side `COPY ... FROM 'file'`
 * when the server can read the file (superuser on this host: the embedded cluster), else
 * psql's `\copy` (COPY FROM STDIN over the connection) — no extra dependency either way.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { generateLedger, symbolName, type GeneratedTrade } from '../../../packages/cli/src/sample/ledger-generator.ts';
import { streamTrades, writeTradeCsv } from './stream-ledger.ts';

const COLUMNS = ['order_id', 'symbol', 'side', 'size', 'price', 'total_fees_usd', 'order_time', 'source', 'trigger'] as const;
const COPY_COLUMNS = `trade_records (${COLUMNS.join(', ')})`;

function csvField(v: string | null): string {
  if (v === null) return ''; // unquoted empty field: NULL in COPY's CSV format
  return /[",\r\n]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v;
}

async function writeCsv(path: string, trades: readonly GeneratedTrade[]): Promise<void> {
  const out = createWriteStream(path);
  const CHUNK = 20_000;
  for (let i = 0; i < trades.length; i += CHUNK) {
    let s = '';
    for (const t of trades.slice(i, i + CHUNK)) s += COLUMNS.map((c) => csvField(t[c])).join(',') + '\n';
    if (!out.write(s)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

export interface LoadReport {
  trades: number;
  symbols: number;
  generateMs: number;
  copyMs: number;
  via: string;
  /** the symbols of the ledger, in C order */
  symbolNames: string[];
}

/** COPY of a trade_records CSV file: server-side when the server can read it, else psql's \\copy. */
async function copyFile(client: pg.Client, url: string, file: string): Promise<string> {
  try {
    await client.query(`COPY ${COPY_COLUMNS} FROM '${file}' WITH (FORMAT csv)`);
    return "server-side COPY ... FROM 'file'";
  } catch (e) {
    const r = spawnSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${COPY_COLUMNS} FROM '${file}' WITH (FORMAT csv)`],
      { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`loading the ledger failed: ${r.stderr || r.error?.message}`);
    return `psql \\copy (COPY FROM STDIN; server-side COPY failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

/** A ledger generated as a stream (stream-ledger.ts), for sizes the bench must not hold. */
export async function loadStreamedLedger(client: pg.Client, url: string, trades: number, symbols: number, seed: number): Promise<LoadReport> {
  const dir = mkdtempSync(join(tmpdir(), 'fifo-bench-'));
  const file = join(dir, 'ledger.csv');
  try {
    const g0 = performance.now();
    await writeTradeCsv(file, streamTrades(trades, symbols, seed));
    const generateMs = performance.now() - g0;
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
    const c0 = performance.now();
    const via = await copyFile(client, url, file);
    const copyMs = performance.now() - c0;
    return { trades, symbols, generateMs, copyMs, via, symbolNames: Array.from({ length: symbols }, (_, i) => symbolName(i)).sort() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function loadLedger(client: pg.Client, url: string, trades: number, symbols: number, seed: number): Promise<LoadReport> {
  const dir = mkdtempSync(join(tmpdir(), 'fifo-bench-'));
  const file = join(dir, 'ledger.csv');
  try {
    const g0 = performance.now();
    let symbolNames: string[];
    {
      const ledger = generateLedger({ trades, symbols, seed, oversellRate: 0 });
      symbolNames = [...new Set(ledger.map((t) => t.symbol))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      await writeCsv(file, ledger);
    } // the generated rows are garbage from here on
    const generateMs = performance.now() - g0;
    chmodSync(dir, 0o755); // the server runs as another user (postgres)
    chmodSync(file, 0o644);

    const c0 = performance.now();
    const via = await copyFile(client, url, file);
    const copyMs = performance.now() - c0;
    return { trades, symbols, generateMs, copyMs, via, symbolNames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
