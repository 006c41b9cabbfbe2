/**
 * Issue 11 import experiments: a fresh database made from a migrated template (migrated once,
 * then copied by CREATE DATABASE ... TEMPLATE), printed as its URL.
 *   tsx scripts/bench/experiments/import-db.ts <name>      (template: fifo_imp_template)
 */
import pg from 'pg';
import { startCluster } from '../../../packages/cli/src/db/cluster.ts';
import { migrate } from '../../../packages/cli/src/db/migrate.ts';

const name = process.argv[2] ?? 'fifo_imp_a';
const { url } = await startCluster();
const server = url.slice(0, url.lastIndexOf('/'));
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const TEMPLATE = 'fifo_imp_template';
const has = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
if (has.rowCount === 0 || process.env.REMIGRATE) {
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await migrate({ url: `${server}/${TEMPLATE}`, direction: 'up' });
}
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
await admin.end();
console.log(`${server}/${name}`);
