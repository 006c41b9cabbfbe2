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
