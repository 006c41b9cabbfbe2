/**
 * Issue 11 import experiments: the server's share of a 1M-row import, piece by piece. The COPY
 * text is made first (the client's check and formatting are not timed), then each variant runs
 * in a transaction that is rolled back (then VACUUM), variants interleaved round by round.
 * Server CPU from /proc of the backend; PERF=DIR records a perf profile of the backend per variant.
 *   DATABASE_URL=... tsx scripts/bench/experiments/import-server-split.ts FILE ROUNDS variant...
 * variants: copy (trigger on), notrig (ledger trigger disabled), chunked:N (N COPY statements).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { copyField, copyIn } from '../../../packages/cli/src/ledger-io/copy-in.ts';
import { openCsvFile } from '../../../packages/cli/src/ledger-io/csv-file.ts';
import { checkFills, keptFills } from '../../../packages/cli/src/ledger-io/fills.ts';
import { IMPORT_FORMATS } from '../../../packages/cli/src/ledger-io/formats.ts';

const [file = '/tmp/imp-1m.csv', rounds = '1', ...variants] = process.argv.slice(2);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const table = openCsvFile(file);
const map = IMPORT_FORMATS.coinbase!.columns(table.header, []);
const parsed = checkFills(table, map, {});
const rows: string[] = [];
for (const f of keptFills(table, map, parsed.keep, {})) {
  rows.push(`${copyField(f.key)}\t${f.symbol}\t${f.side}\t${f.size}\t${f.price}\t${f.fee}\t${f.time}\tcoinbase\tdefault\n`);
}
function chunks(from: number, to: number): string[] {
  const out: string[] = [];
  let buf = '';
  for (let i = from; i < to; i++) {
    buf += rows[i];
    if (buf.length >= 1 << 18) { out.push(buf); buf = ''; }
  }
  if (buf) out.push(buf);
  return out;
}
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const serverCpu = () => {
  const f = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const COPY = 'COPY trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, account) FROM STDIN';
for (let r = 0; r < Number(rounds); r++) {
  for (const v of variants) {
    const l0 = load();
    await client.query('BEGIN');
    if (v === 'notrig') await client.query('ALTER TABLE trade_records DISABLE TRIGGER trade_records_audit_insert');
    const parts = v.startsWith('chunked:') ? Number(v.split(':')[1]) : 1;
    const texts = Array.from({ length: parts }, (_, k) => chunks(Math.floor((k * rows.length) / parts), Math.floor(((k + 1) * rows.length) / parts)));
    const perf = process.env.PERF ? spawn('perf', ['record', '-g', '-p', String(backend), '-o', `${process.env.PERF}/${v}-${r}.data`], { stdio: 'ignore' }) : null;
    const c0 = serverCpu();
    const t0 = performance.now();
    let n = 0;
    for (const t of texts) n += await copyIn(client, COPY, t);
    const ms = performance.now() - t0;
    const cpu = serverCpu() - c0;
    if (perf) { perf.kill('SIGINT'); await new Promise((res) => perf.on('exit', res)); }
    const t1 = performance.now();
    await client.query('ROLLBACK');
    console.log(`round ${r + 1} ${v}: ${n} rows ${(ms / 1000).toFixed(1)} s, server cpu ${cpu.toFixed(1)} s (load ${l0}; rollback ${((performance.now() - t1) / 1000).toFixed(1)} s)`);
    await client.query('VACUUM trade_records, trade_records_audit, fifo_dirty_symbols');
  }
}
await client.end();
