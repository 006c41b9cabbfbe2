import type pg from 'pg';
import { DomainError } from '../domain-error.ts';
import { openClientSession } from './client-session.ts';
import { openPlv8Session, plv8ProceduresInstalled, type ProcedureSession } from './procedure-host.ts';

export type HostChoice = 'auto' | 'plv8' | 'client';

/** `auto`: the in-database procedures when installed, else the Node host. */
/** `sessionSql`: settings of the procedures' session beyond the CLI's own (watch: WATCH_SESSION_SQL). */
export async function openProcedureSession(client: pg.Client, url: string, choice: HostChoice, sessionSql: readonly string[] = []): Promise<ProcedureSession> {
  const installed = await plv8ProceduresInstalled(client);
  if (choice === 'plv8' && !installed) {
    throw new DomainError('plv8_not_installed', 'the PLV8 procedures are not installed in this database (PLV8 missing?); the Node host (client) or auto runs them', 'plv8');
  }
  return choice === 'plv8' || (choice === 'auto' && installed) ? openPlv8Session(url, sessionSql) : openClientSession(url, { sessionSql });
}
