/**
 * Issue 11 import experiments: the import's phases timed one by one on a 1M-line Coinbase file
 * (import-make-csv.ts) in a fresh database (import-db.ts), each write variant in a transaction
 * rolled back (then VACUUM), the variants interleaved round by round.
 *   DATABASE_URL=... tsx scripts/bench/experiments/import-phases.ts FILE ROUNDS variant...
 * variants: copy-file (COPY straight into trade_records, file order), copy-time (same, sorted by
 * time in the client), copy-notrig (file order, the ledger trigger disabled), read (the client
 * side alone: reading the kept fills again and making the COPY text), copy-mem and copy-mem-notrig
 * (the COPY text made first, then only the COPY timed, with and without the trigger), copy-wm
 * (copy-file with work_mem 512 MB: the trigger's transition table in memory).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { copyField, copyIn } from '../../../packages/cli/src/ledger-io/copy-in.ts';
import { openCsvFile } from '../../../packages/cli/src/ledger-io/csv-file.ts';
import { checkFills, keptFills, type Fill } from '../../../packages/cli/src/ledger-io/fills.ts';
import { IMPORT_FORMATS } from '../../../packages/cli/src/ledger-io/formats.ts';
import { parseIsoTime } from '../../../packages/cli/src/ledger-io/values.ts';

const [file = '/tmp/fifo-import-1m.csv', rounds = '1', ...variants] = process.argv.slice(2);
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
async function time<T>(f: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

const [table, openMs] = await time(() => openCsvFile(file));
const map = IMPORT_FORMATS.coinbase!.columns(table.header, []);
const [parsed, checkMs] = await time(() => checkFills(table, map, {}));
console.log(`open ${sec(openMs)}, check ${sec(checkMs)} (load ${load()}); ${parsed.fills} fills, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
const fills = () => keptFills(table, map, parsed.keep, {});

function* chunks(src: Iterable<Fill>): Generator<string> {
  let buf = '';
  for (const f of src) {
    buf += `${copyField(f.key)}\t${f.symbol}\t${f.side}\t${f.size}\t${f.price}\t${f.fee}\t${f.time}\tcoinbase\tdefault\n`;
    if (buf.length >= 1 << 18) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

function timeOrdered(): Fill[] {
  const all = [...fills()];
  const ms = new Map(all.map((f) => [f, parseIsoTime(f.time).ms]));
  return all.sort((a, b) => ms.get(a)! - ms.get(b)! || (a.key < b.key ? -1 : 1));
}

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
/** CPU seconds of the server backend (utime + stime from /proc; same machine) and of this process. */
const cpu = () => {
  const f = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const u = process.cpuUsage();
  return { server: (Number(f[11]) + Number(f[12])) / 100, client: (u.user + u.system) / 1e6 };
};
let c0 = cpu();
const cpuSince = () => {
  const c = cpu();
  const r = `cpu server ${(c.server - c0.server).toFixed(1)} s, client ${(c.client - c0.client).toFixed(1)} s`;
  c0 = c;
  return r;
};
const COPY = 'COPY trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, account) FROM STDIN';
for (let r = 0; r < Number(rounds); r++) {
  for (const v of variants) {
    const l0 = load();
    cpuSince();
    if (v === 'read') {
      const [, ms] = await time(() => { let n = 0; for (const c of chunks(fills())) n += c.length; return n; });
      console.log(`round ${r + 1} ${v}: ${sec(ms)} (load ${l0}; ${cpuSince()})`);
      continue;
    }
    await client.query('BEGIN');
    let extra = '';
    if (v === 'copy-wm') await client.query("SET LOCAL work_mem = '512MB'");
    if (v === 'copy-notrig') await client.query('ALTER TABLE trade_records DISABLE TRIGGER trade_records_audit_insert');
    let src: Iterable<Fill> = fills();
    if (v === 'copy-mem' || v === 'copy-mem-notrig') {
      const text = [...chunks(src)];
      cpuSince();
      if (v === 'copy-mem-notrig') await client.query('ALTER TABLE trade_records DISABLE TRIGGER trade_records_audit_insert');
      const [n, ms] = await time(() => copyIn(client, COPY, text));
      await client.query('ROLLBACK');
      console.log(`round ${r + 1} ${v}: ${n} rows ${sec(ms)} (text made before; load ${l0}; ${cpuSince()})`);
      await client.query('VACUUM trade_records, trade_records_audit, fifo_dirty_symbols');
      continue;
    }
    if (v === 'copy-time') {
      const [sorted, sortMs] = await time(() => timeOrdered());
      src = sorted;
      extra = ` (sort ${sec(sortMs)})`;
    }
    const [n, ms] = await time(() => copyIn(client, COPY, chunks(src)));
    const used = cpuSince();
    await client.query('ROLLBACK');
    console.log(`round ${r + 1} ${v}: ${n} rows ${sec(ms)}${extra} (load ${l0}; ${used})`);
    await client.query('VACUUM trade_records, trade_records_audit, fifo_dirty_symbols');
  }
}
await client.end();
