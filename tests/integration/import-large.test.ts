/**
 * `fifo import` of files larger than one staging chunk, and the byte-level CSV index it reads
 * them with (issue 11: a million-row file without a million records in memory).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CsvIndex, parseCsv } from '../../packages/cli/src/ledger-io/csv.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fifo-import-large-'));
const HEADER = 'trade_id,order_id,trade_time,price,size,commission,product_id,side';
const SYMBOLS = ['SOL-USD', 'BTC-USD', 'ETH-USD'];

/** Row i (0-based): a buy of 1 at 100 + i/1000, one symbol of three in turn. */
function row(i: number): string {
  const t = new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();
  return `t${i},o${i},${t},${100 + i / 1000},1,0.01,${SYMBOLS[i % 3]},BUY`;
}

function csvFile(name: string, rows: readonly string[]): string {
  const path = join(tmp, name);
  writeFileSync(path, `${HEADER}\n${rows.join('\n')}\n`);
  return path;
}

function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('CsvIndex', () => {
  it('reads the records, lines and errors parseCsv does, from the bytes', () => {
    const texts = [
      'a,b\n1,2\n',
      '\uFEFFa,b\r\n1,2\r\n3,4',
      'a,b\n\n  \n1,2\n\u3000\n"",\n',
      'a,b\n"x\n""y""",2\r3,"4"\n',
      'a,b,c\n1,2,3\n1,2\n4,5,6,7\n',
      'a,b\n1,2\n3,"4\n',
      'a,b\n1,2,3\n"x"y,1\n',
      'a,b\n1,x"y\n',
      'a,b\n"é"€,1\n',
      'a,b\n"😀"😀,1\n',
      '',
      '\n \n',
      ' h1 , h2 \n"",""\n"",\n',
      'a\n\n"  "\nx\n',
      'a,b\n"ü,ß",∑\n',
    ];
    for (const text of texts) {
      const expected = outcome(() => parseCsv(text));
      expect(outcome(() => CsvIndex.of(Buffer.from(text)).table()), JSON.stringify(text)).toEqual(expected);
    }
  });
});

describe('fifo import of a file larger than a staging chunk', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  const counts = () => t.query<{ facts: number; audit: number }>(
    `SELECT (SELECT count(*)::int FROM trade_records) AS facts, (SELECT count(*)::int FROM trade_records_audit) AS audit`);

  it('reports every problem of every chunk with its line and column, and writes nothing', async () => {
    const before = await counts();
    const rows = Array.from({ length: 12_001 }, (_, i) => row(i));
    rows[6_999] = rows[6_999]!.replace(',1,0.01,', ',1,-0.01,');
    rows[12_000] = rows[12_000]!.replace(',BUY', ',SHORT');
    const r = await runFifo(['import', 'coinbase', csvFile('late-errors.csv', rows)], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/late-errors\.csv: 2 problem\(s\); nothing imported/);
    expect(r.stderr).toMatch(/line 7001, column "commission": fee "-0.01" is negative/);
    expect(r.stderr).toMatch(/line 12002, column "side": side "SHORT" is neither buy nor sell/);
    expect(await counts()).toEqual(before);
  });

  it('stages every chunk, counts inserts per symbol in SQL, and reads repeated rows once', async () => {
    const rows = Array.from({ length: 12_000 }, (_, i) => row(i));
    rows.push(rows[5_000]!, rows[11_999]!);
    const file = csvFile('big.csv', rows);
    const r = await runFifo(['import', 'coinbase', file, '--json'], { DATABASE_URL: t.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ duplicatesInFile: 2, read: 12_000, inserted: 12_000, unchanged: 0, updated: [], skipped: [], symbols: ['BTC-USD', 'ETH-USD', 'SOL-USD'] });
    const bySymbol = await t.query<{ symbol: string; n: number; first: string }>(
      `SELECT symbol, count(*)::int AS n, min(price)::text AS first FROM trade_records GROUP BY symbol ORDER BY symbol`);
    expect(bySymbol).toEqual([{ symbol: 'BTC-USD', n: 4000, first: '100.001' }, { symbol: 'ETH-USD', n: 4000, first: '100.002' }, { symbol: 'SOL-USD', n: 4000, first: '100' }]);

    const again = await runFifo(['import', 'coinbase', file], { DATABASE_URL: t.url });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/big\.csv: 12000 fill\(s\) \(\+2 repeated row\(s\) read once\): 0 inserted, 0 updated, 12000 unchanged, 0 skipped/);
  });
});
