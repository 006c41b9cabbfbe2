/** What the figures were measured on. */
import { cpus, loadavg, totalmem } from 'node:os';
import type pg from 'pg';

export async function describeMachine(client: pg.Client): Promise<string[]> {
  const cpu = cpus();
  const { rows: [v] } = await client.query<{ v: string; jit: string; sb: string; wm: string }>(
    `SELECT current_setting('server_version') AS v, current_setting('jit') AS jit,
            current_setting('shared_buffers') AS sb, current_setting('work_mem') AS wm`);
  return [
    `cpu: ${cpu[0]?.model ?? 'unknown'} x ${cpu.length} cores; memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB; ` +
      `load average at the start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `node ${process.version}; PostgreSQL ${v!.v} (shared_buffers ${v!.sb}, work_mem ${v!.wm}, jit ${v!.jit}); ` +
      `${process.platform} ${process.arch}`,
  ];
}
