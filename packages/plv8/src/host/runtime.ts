/**
 * Entry point of the code the host evaluates inside each vm context: installs the PLV8
 * globals (`plv8`, DEBUG5 … ERROR) and hands the host a few internal controls. Bundled by
 * esbuild (platform neutral), so everything here is created in the context's realm.
 */
import { createPlv8, LEVELS, type Bridge, type Plv8Internal } from './api.ts';

export function install(bridge: Bridge, v8Version: string): Plv8Internal {
  const { plv8, internal } = createPlv8(bridge, { prefix: 'ctx', v8Version });
  const g = globalThis as unknown as Record<string, unknown>;
  g.plv8 = plv8;
  for (const [name, level] of Object.entries(LEVELS)) g[name] = level;
  return internal;
}
