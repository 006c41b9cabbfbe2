import { connect } from '../db/connect.ts';
import { EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { assessHealth, renderHealth } from '../health/assess.ts';
import { onFlags } from './domain-errors.ts';
import { parseCommand } from '../cli/parse.ts';
import { DEFAULT_MAX_LAG_MINUTES, type ParsedCommand } from '../cli/spec.ts';

export const healthUsage = 'usage: fifo health [--version N] [--max-lag-minutes N] [--skip-invariants] [--json]';

export { DEFAULT_MAX_LAG_MINUTES };

/** Exit 0 healthy, 1 unhealthy (any warning), 2 bad input: for cron and monitoring. */
export async function healthCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('health', args));
}

export async function run({ values }: ParsedCommand<'health'>): Promise<number> {
  const { version, 'max-lag-minutes': lag } = values;
  const client = await connect();
  try {
    const h = await onFlags(assessHealth(client, version, lag, !values['skip-invariants']), { no_such_version: '--version' });
    console.log(values.json ? JSON.stringify(h) : renderHealth(h));
    return h.healthy ? EXIT_OK : EXIT_CHECKS_FAILED;
  } finally {
    await client.end();
  }
}
