/**
 * Which host the integration suite computes in: FIFO_TEST_HOST=plv8|client|auto (default
 * auto: in the database where the PLV8 procedures are installed, else the Node host). The CLI
 * children get it as FIFO_HOST, the default of every --host; tests that open a session
 * themselves ask testHost().
 */
import type { HostChoice } from '../../packages/cli/src/compute/sessions.ts';

const HOSTS: readonly HostChoice[] = ['auto', 'plv8', 'client'];

export function testHost(): HostChoice {
  const v = process.env.FIFO_TEST_HOST ?? 'auto';
  if (!(HOSTS as readonly string[]).includes(v)) throw new Error(`FIFO_TEST_HOST must be auto, plv8 or client, got ${JSON.stringify(v)}`);
  return v as HostChoice;
}
