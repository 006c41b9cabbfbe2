import { CliError } from '../errors.ts';

export function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new CliError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** The allocation version: --version, else FIFO_ALLOCATION_VERSION, else 1 (SPEC §5). */
export function allocationVersion(flag: string | undefined): number {
  if (flag !== undefined) return positiveInt('--version', flag);
  const env = process.env.FIFO_ALLOCATION_VERSION;
  if (env !== undefined && env !== '') return positiveInt('FIFO_ALLOCATION_VERSION', env);
  return 1;
}

/** An ISO-8601 date or timestamp (a date alone means midnight UTC). */
export function parseTime(name: string, raw: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw);
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  if (!ok || Number.isNaN(d.getTime())) {
    throw new CliError(`${name} must be an ISO date or time such as 2026-01-31 or 2026-01-31T12:00:00Z, got ${JSON.stringify(raw)}`);
  }
  return d;
}
