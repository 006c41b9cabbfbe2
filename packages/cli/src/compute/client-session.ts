/**
 * The Node host: the same procedure bundle, run by packages/plv8's PLV8-compatible host over
 * a connection of ours. Each call is one transaction; an uncaught exception rolls it back.
 */
import { Plv8Host } from '../../../plv8/src/host/host.ts';
import { SESSION_SQL } from '../db/connect.ts';
import type { ProcedureSession } from './procedure-host.ts';

export async function openClientSession(url: string): Promise<ProcedureSession> {
  let host: Plv8Host | undefined;
  return {
    kind: 'client',
    async callInTransaction(name, args) {
      host ??= await Plv8Host.open({
        connectionString: url, begin: false, applicationName: 'fifo-ledger compute (node host)', sessionSql: SESSION_SQL,
      });
      host.begin();
      try {
        const result = host.call(name, args);
        host.commit();
        return result;
      } catch (e) {
        host.rollback();
        throw e;
      }
    },
    async close() {
      await host?.close();
    },
  };
}
