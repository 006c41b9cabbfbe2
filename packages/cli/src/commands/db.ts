import { clusterStatus, databaseUrl, startCluster, stopCluster } from '../db/cluster.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

export async function dbCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('db', args));
}

export async function run({ action }: ParsedCommand<'db'>): Promise<number> {
  const external = Boolean(process.env.DATABASE_URL);
  switch (action) {
    case 'start': {
      if (external) {
        console.error('DATABASE_URL is set: using it, no embedded cluster started');
        return 0;
      }
      const r = await startCluster();
      console.error(r.started ? `embedded PostgreSQL started${r.initialized ? ' (new cluster)' : ''}` : 'embedded PostgreSQL already running');
      console.log(r.url);
      return 0;
    }
    case 'stop': {
      if (external) {
        console.error('DATABASE_URL is set: nothing to stop');
        return 0;
      }
      console.error(stopCluster() ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL was not running');
      return 0;
    }
    case 'url':
      console.log(databaseUrl());
      return 0;
    case 'status': {
      if (external) {
        console.log(`external database (DATABASE_URL): ${databaseUrl()}`);
        return 0;
      }
      const s = clusterStatus();
      console.log(`url:         ${s.url}`);
      console.log(`data dir:    ${s.layout.dataDir}`);
      console.log(`binaries:    ${s.layout.bindir ?? 'not found'}`);
      console.log(`initialized: ${s.initialized}`);
      console.log(`running:     ${s.running}`);
      return s.running ? 0 : 1;
    }
  }
}
