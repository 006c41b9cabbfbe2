import { connect } from '../db/connect.ts';
import { CliError } from '../errors.ts';
import { generateLedger } from '../sample/ledger-generator.ts';
import { insertTrades } from '../sample/load-ledger.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

/** `fifo sample-ledger`: appends a deterministic random ledger (demos, tests, benchmarks). */
export async function sampleCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('sample-ledger', args));
}

export async function run({ values }: ParsedCommand<'sample-ledger'>): Promise<number> {
  const { trades, symbols, seed, 'oversell-rate': rate } = values;
  if (symbols > trades) throw new CliError(`--symbols (${symbols}) cannot exceed --trades (${trades})`);
  const ledger = generateLedger({ trades, symbols, seed, oversellRate: rate });
  const client = await connect();
  try {
    await client.query('BEGIN');
    await insertTrades(client, ledger);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await client.end();
  }
  console.error(`inserted ${ledger.length} trades over ${symbols} symbols (seed ${seed})`);
  return 0;
}
