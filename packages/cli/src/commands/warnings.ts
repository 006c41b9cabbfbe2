/** Warnings several commands print (a CLI helper, not a command). */
import { behindText, symbolsBehind, type VersionInfo } from '../queries/versions.ts';

/** A version behind the ledger is used anyway, with a warning on stderr. */
export function warnIfStale(v: VersionInfo): void {
  if (symbolsBehind(v) > 0) {
    console.error(`fifo: warning: ${behindText(v)}; fifo compute --version ${v.allocation_version} brings it up to date`);
  }
}
