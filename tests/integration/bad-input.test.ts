/**
 * The bad-input catalogue (docs/BAD-INPUT.md), exercised row by row: the exit code (or
 * SQLSTATE) and the message match the document, and nothing was written. The cases live in
 * tests/integration/bad-input/*.ts, one file per area; every row of the document needs one.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { caseContext, type CaseContext, type Cases } from './bad-input/context.ts';

interface Row { id: string; exit: string; message: string }

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/BAD-INPUT.md'), 'utf8');
const rows: Row[] = doc.split('\n')
  .filter((l) => /^\| [a-z]+-[a-z0-9-]+ \|/.test(l))
  .map((l) => {
    const cells = l.split(' | ').map((c) => c.replace(/^\| ?|\s*\|$/g, '').trim());
    return { id: cells[0]!, exit: cells[3]!, message: cells[4]!.replace(/^`|`$/g, '') };
  });

let t: TestSchema;
let dir: string;
const ctx = caseContext(() => t, () => dir);
const caseDir = resolve(import.meta.dirname, 'bad-input');
const modules = readdirSync(caseDir).filter((f) => f.endsWith('.ts') && f !== 'context.ts').sort();
const cases: Cases = {};
for (const m of modules) {
  const mod = (await import(join(caseDir, m))) as { cases: (c: CaseContext) => Cases };
  for (const [id, c] of Object.entries(mod.cases(ctx))) {
    if (id in cases) throw new Error(`bad-input case ${id} is defined twice (${m})`);
    cases[id] = c;
  }
}

/** Everything a bad input must leave as it was. */
async function state(): Promise<unknown> {
  return t.query(`SELECT (SELECT count(*) FROM trade_records)::int AS trades,
                         (SELECT count(*) FROM trade_records_audit)::int AS audit,
                         (SELECT count(*) FROM fifo_allocations)::int AS allocations,
                         (SELECT count(*) FROM fifo_computation_log)::int AS runs,
                         (SELECT count(*) FROM manual_review_queue)::int AS reviews`);
}

describe('the bad-input catalogue', () => {
  beforeAll(async () => {
    t = await createTestSchema();
    dir = mkdtempSync(join(tmpdir(), 'fifo-bad-input-'));
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   VALUES ('keep-1', 'SOL-USD', 'buy', 1, 10, '2025-01-01Z')`);
  });
  afterAll(() => t.drop());

  it('documents at least 25 kinds, each with a test, and no test without its row', () => {
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(rows.map((r) => r.id).sort()).toEqual(Object.keys(cases).sort());
  });

  it.each(rows.map((r) => [r.id, r] as const))('%s', async (_id, row) => {
    const before = await state();
    const got = await cases[row.id]!();
    expect({ id: row.id, exit: got.exit }).toEqual({ id: row.id, exit: row.exit });
    expect(got.message).toContain(row.message);
    expect(await state()).toEqual(before);
  });
});
