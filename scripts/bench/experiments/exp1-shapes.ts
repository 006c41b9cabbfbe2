/**
 * Issue 11, experiment 1: cost of writing the same 996,859 allocation rows (exp_src) into
 * tables of different shapes, INSERT ... SELECT on one connection, variants interleaved,
 * ROUNDS rounds (order rotated each round). Times include index builds and attach/swap.
 *   DATABASE_URL=.../fifo_exp tsx scripts/bench/experiments/exp1-shapes.ts [rounds]
 */
import { connect, COLS, SRC_SELECT, median, uptime } from './lib.ts';

const ROUNDS = Number(process.argv[2] ?? 3);
const c = await connect();
const IDX = (t: string) => [
  `CREATE INDEX ON ${t} (allocation_version, symbol, buy_order_id) WHERE buy_order_id IS NOT NULL`,
  `CREATE INDEX ON ${t} (allocation_version, symbol) WHERE buy_order_id IS NULL`,
  `CREATE INDEX ON ${t} (allocation_version, sell_time)`,
];
const PK = (t: string) => `ALTER TABLE ${t} ADD PRIMARY KEY (allocation_version, symbol, sell_order_id, allocation_seq)`;
const CHECKS = (t: string) => [
  `ALTER TABLE ${t} ADD CHECK (allocation_seq > 0), ADD CHECK (allocated_size > 0), ADD CONSTRAINT ${t}_mu CHECK (
    (buy_order_id IS NULL AND buy_price IS NULL AND buy_time IS NULL AND buy_fee_usd IS NULL AND cost_basis_usd IS NULL AND pnl_usd IS NULL)
    OR (buy_order_id IS NOT NULL AND buy_price IS NOT NULL AND buy_time IS NOT NULL AND buy_fee_usd IS NOT NULL AND cost_basis_usd IS NOT NULL AND pnl_usd IS NOT NULL))`,
];
const INSERT = (t: string) => `INSERT INTO ${t} (${COLS}) ${SRC_SELECT}`;
const symbols = (await c.query<{ s: string }>('SELECT DISTINCT symbol s FROM exp_src ORDER BY 1')).rows.map((r) => r.s);
const batches: string[][] = [];
for (let i = 0; i < symbols.length; i += 25) batches.push(symbols.slice(i, i + 25));

type Step = [label: string, sql: string | (() => Promise<void>)];
interface Variant { name: string; setup: string[]; steps: Step[] }
const bare = (t: string) => `CREATE TABLE ${t} (LIKE fifo_allocations INCLUDING DEFAULTS)`;

const variants: Variant[] = [
  { name: 'today (FK, PK, 3 idx, CHECKs)',
    setup: [`CREATE TABLE e_today (LIKE fifo_allocations INCLUDING ALL)`,
      `ALTER TABLE e_today ADD FOREIGN KEY (allocation_version) REFERENCES fifo_allocation_versions ON DELETE CASCADE`],
    steps: [['insert', INSERT('e_today')],
      // what a full recompute does today on a table that already holds the version: per batch
      // of 25 symbols DELETE the old rows, INSERT the new
      ['replace: 40 x (DELETE + INSERT)', async () => {
        for (const b of batches) {
          await c.query('DELETE FROM e_today WHERE allocation_version = 2 AND symbol = ANY ($1::text[])', [b]);
          await c.query(`${INSERT('e_today')} WHERE symbol = ANY ($1::text[])`, [b]);
        }
      }]] },
  { name: 'no FK (PK, 3 idx, CHECKs)', setup: [`CREATE TABLE e_nofk (LIKE fifo_allocations INCLUDING ALL)`],
    steps: [['insert', INSERT('e_nofk')],
      ['delete all rows of the version (40 x DELETE)', async () => {
        for (const b of batches) await c.query('DELETE FROM e_nofk WHERE allocation_version = 2 AND symbol = ANY ($1::text[])', [b]);
      }]] },
  { name: 'PK + CHECKs only', setup: [bare('e_pk'), PK('e_pk'), ...CHECKS('e_pk')], steps: [['insert', INSERT('e_pk')]] },
  { name: 'PK + unmatched partial idx', setup: [bare('e_pku'), PK('e_pku'), IDX('e_pku')[1]!], steps: [['insert', INSERT('e_pku')]] },
  { name: 'bare (no index, no CHECK)', setup: [bare('e_bare')], steps: [['insert', INSERT('e_bare')]] },
  { name: 'bare + CHECKs', setup: [bare('e_barec'), ...CHECKS('e_barec')], steps: [['insert', INSERT('e_barec')]] },
  { name: 'bare, then PK + 3 idx built after', setup: [bare('e_after')],
    steps: [['insert', INSERT('e_after')], ['build PK', PK('e_after')], ...IDX('e_after').map((s, i) => [`build idx ${i + 1}`, s] as Step)] },
  { name: 'bare, then PK built after', setup: [bare('e_after1')], steps: [['insert', INSERT('e_after1')], ['build PK', PK('e_after1')]] },
  { name: 'bigint identity PK only', setup: [
      `CREATE TABLE e_ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, LIKE fifo_allocations INCLUDING DEFAULTS)`],
    steps: [['insert', INSERT('e_ident')]] },
  { name: '3-col PK (symbol, sell_order_id, seq)', setup: [bare('e_pk3'), 'ALTER TABLE e_pk3 ADD PRIMARY KEY (symbol, sell_order_id, allocation_seq)'],
    steps: [['insert', INSERT('e_pk3')]] },
];

// Partitioned by version: the parent holds the PK + 3 indexes (+ FK in one variant); a full
// recompute builds a standalone table unindexed, indexes it, adds the CHECK that lets
// ATTACH skip its scan, then swaps it for the old partition in one short transaction.
for (const fk of [false, true]) {
  const p = fk ? 'e_partfk' : 'e_part';
  const parentDdl = [
    `CREATE TABLE ${p} (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST (allocation_version)`,
    PK(p), ...IDX(p),
    ...(fk ? [`ALTER TABLE ${p} ADD FOREIGN KEY (allocation_version) REFERENCES fifo_allocation_versions ON DELETE CASCADE`] : []),
  ];
  const build = (t: string): Step[] => [
    ['insert into stage', `CREATE TABLE ${t} (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS); ${INSERT(t)}`],
    ['build PK', `ALTER TABLE ${t} ADD PRIMARY KEY (allocation_version, symbol, sell_order_id, allocation_seq)`],
    ...IDX(t).map((s, i) => [`build idx ${i + 1}`, s] as Step),
    ['CHECK (version = 2)', `ALTER TABLE ${t} ADD CONSTRAINT ${t}_v CHECK (allocation_version = 2)`],
  ];
  variants.push({
    name: `partition swap${fk ? ' (FK on parent)' : ''}`,
    // the version's old partition, built the same way (untimed)
    setup: [...parentDdl, `CREATE TABLE ${p}_old (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`, INSERT(`${p}_old`),
      `ALTER TABLE ${p} ATTACH PARTITION ${p}_old FOR VALUES IN (2)`],
    steps: [...build(`${p}_new`),
      ['swap: DETACH old + ATTACH new (1 tx)', `BEGIN; ALTER TABLE ${p} DETACH PARTITION ${p}_old;
         ALTER TABLE ${p} ATTACH PARTITION ${p}_new FOR VALUES IN (2); COMMIT`],
      ['DROP old partition', `DROP TABLE ${p}_old`]],
  });
}

const results = new Map<string, Map<string, number[]>>();
console.log(`# exp1 start, loadavg ${await uptime()}`);
for (let r = 0; r < ROUNDS; r++) {
  const order = variants.map((_, i) => variants[(i + r * 3) % variants.length]!);
  for (const v of order) {
    await c.query(`DROP TABLE IF EXISTS e_today, e_nofk, e_pk, e_pku, e_bare, e_barec, e_after, e_after1, e_ident, e_pk3,
      e_part, e_part_old, e_part_new, e_partfk, e_partfk_old, e_partfk_new CASCADE`);
    await c.query('CHECKPOINT');
    for (const s of v.setup) await c.query(s);
    const m = results.get(v.name) ?? new Map<string, number[]>();
    results.set(v.name, m);
    let total = 0;
    const parts: string[] = [];
    for (const [label, sql] of v.steps) {
      const t0 = performance.now();
      if (typeof sql === 'string') await c.query(sql); else await sql();
      const ms = performance.now() - t0;
      if (!label.startsWith('replace') && !label.startsWith('delete')) total += ms;
      (m.get(label) ?? m.set(label, []).get(label)!).push(ms);
      parts.push(`${label} ${(ms / 1000).toFixed(2)}`);
    }
    (m.get('TOTAL (write)') ?? m.set('TOTAL (write)', []).get('TOTAL (write)')!).push(total);
    console.log(`round ${r + 1} | ${v.name} | total ${(total / 1000).toFixed(2)} s | ${parts.join('; ')} | load ${await uptime()}`);
  }
}
await c.query(`DROP TABLE IF EXISTS e_today, e_nofk, e_pk, e_pku, e_bare, e_barec, e_after, e_after1, e_ident, e_pk3,
  e_part, e_part_old, e_part_new, e_partfk, e_partfk_old, e_partfk_new CASCADE`);
const bareMed = median(results.get('bare (no index, no CHECK)')!.get('TOTAL (write)')!);
console.log(`\n# medians over ${ROUNDS} rounds (s); ratio = total / bare insert; loadavg ${await uptime()}`);
for (const [name, m] of results) {
  const tot = median(m.get('TOTAL (write)')!);
  const detail = [...m].filter(([k]) => k !== 'TOTAL (write)').map(([k, xs]) => `${k} ${(median(xs) / 1000).toFixed(2)}`).join('; ');
  console.log(`${name.padEnd(42)} ${(tot / 1000).toFixed(2).padStart(6)} s  ${(tot / bareMed).toFixed(2)}x  | ${detail}`);
}
await c.end();
