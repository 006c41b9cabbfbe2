import { parseArgs } from 'node:util';
import { connect } from '../db/connect.ts';
import { CliError } from '../errors.ts';
import { generateLedger } from '../sample/ledger-generator.ts';
import { insertTrades } from '../sample/load-ledger.ts';
import { positiveInt } from './args.ts';

/** `fifo sample-ledger`: appends a deterministic random ledger (demos, tests, benchmarks). */
export async function sampleCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      trades: { type: 'string', default: '10000' },
      symbols: { type: 'string', default: '30' },
      seed: { type: 'string', default: '42' },
      'oversell-rate': { type: 'string', default: '0' },
    },
    strict: true,
  });
  const trades = positiveInt('--trades', values.trades);
  const symbols = positiveInt('--symbols', values.symbols);
  const seed = positiveInt('--seed', values.seed);
  const rate = Number(values['oversell-rate']);
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(values['oversell-rate']) || !(rate >= 0 && rate <= 1)) {
    throw new CliError(`--oversell-rate must be a number between 0 and 1, got ${JSON.stringify(values['oversell-rate'])}`);
  }
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
