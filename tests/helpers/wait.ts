export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Whether any session waits for a lock the backend `pid` holds. */
export async function blocksSomeone(query: (sql: string, params: unknown[]) => Promise<Array<{ n: number }>>, pid: number): Promise<boolean> {
  const [r] = await query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid))`, [pid]);
  return (r?.n ?? 0) > 0;
}
