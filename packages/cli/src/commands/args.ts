import { CliError } from '../errors.ts';
import { looksLikeIsoTime, parseIsoTime, ValueError } from '../ledger-io/values.ts';

export function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new CliError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** The allocation version: --version, else FIFO_ALLOCATION_VERSION, else 1 (docs/CONTRACT.md §9). */
export function allocationVersion(flag: string | undefined): number {
  if (flag !== undefined) return positiveInt('--version', flag);
  const env = process.env.FIFO_ALLOCATION_VERSION;
  if (env !== undefined && env !== '') return positiveInt('FIFO_ALLOCATION_VERSION', env);
  return 1;
}

export interface FlagTime {
  raw: string;
  time: Date;
  /** A bare date (YYYY-MM-DD): midnight UTC. */
  dateOnly: boolean;
}

/**
 * The one parser of time flags (--from, --to, --since, --time, ...): an ISO date or time;
 * without an offset it is UTC (never the machine's zone). Impossible dates and times
 * (2025-02-30, 24:61) and sub-millisecond digits a Date cannot hold are usage errors.
 */
export function parseTimeFlag(name: string, raw: string): FlagTime {
  if (!looksLikeIsoTime(raw)) {
    throw new CliError(`${name} must be an ISO date or time such as 2026-01-31 or 2026-01-31T12:00:00Z (UTC unless an offset is given), got ${JSON.stringify(raw)}`);
  }
  let t;
  try {
    t = parseIsoTime(raw, { assumeUtc: true, allowDate: true });
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${name} ${e.message}`);
    throw e;
  }
  if (!t.exactMs) throw new CliError(`${name} ${JSON.stringify(raw)} has digits below the millisecond; give at most 3 decimal places`);
  return { raw, time: new Date(t.ms), dateOnly: t.dateOnly };
}

export function parseTime(name: string, raw: string): Date {
  return parseTimeFlag(name, raw).time;
}
