import { startCluster } from '../db/cluster.ts';
import { migrate } from '../db/migrate.ts';
import { databaseUrl } from '../db/cluster.ts';
import { healthCommand } from './health.ts';

/** The main job on the embedded default: local database, schema, health. */
export async function demoCommand(_args: readonly string[]): Promise<number> {
  if (!process.env.DATABASE_URL) {
    const r = await startCluster();
    console.error(`database: ${r.url}${r.started ? ' (started)' : ''}`);
  }
  const ran = await migrate({ url: databaseUrl(), direction: 'up' });
  console.error(ran.length ? `migrated: ${ran.join(', ')}` : 'schema up to date');
  console.log('\n== v_allocation_health ==');
  return healthCommand([]);
}
