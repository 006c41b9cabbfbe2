/**
 * Starts the embedded PostgreSQL once for the integration suite (or uses
 * FIFO_TEST_DATABASE_URL / DATABASE_URL) and hands its URL to the tests.
 */
import type { TestProject } from 'vitest/node';
import { startCluster } from '../../packages/cli/src/db/cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const url = process.env.FIFO_TEST_DATABASE_URL || process.env.DATABASE_URL || (await startCluster()).url;
  project.provide('databaseUrl', url);
}
