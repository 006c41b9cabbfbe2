/**
 * Display of exact decimal strings (PostgreSQL numeric text): rounding is format/decimal.ts's,
 * grouping and signs here.
 */
import { roundDecimal } from '../format/decimal.ts';

/** Thousands separators on the integer part: "1234567.5" → "1,234,567.5". */
export function groupThousands(s: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  if (!m) return s;
  return `${m[1]}${m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

/** Money for people: rounded to cents, grouped; null/undefined → "". */
export function money(s: string | null | undefined): string {
  if (s === null || s === undefined) return '';
  return groupThousands(roundDecimal(s, 2));
}

/** -1, 0 or 1 by the sign of a decimal string. */
export function signOf(s: string | null | undefined): -1 | 0 | 1 {
  if (s === null || s === undefined) return 0;
  const t = s.trim();
  if (/^-?0*(\.0*)?$/.test(t)) return 0;
  return t.startsWith('-') ? -1 : 1;
}

/** A ratio for people (profit factor, Sharpe): RATIO_PLACES decimals; null → `none`. */
export function ratio(s: string | null | undefined, none = 'n/a'): string {
  return s === null || s === undefined ? none : roundDecimal(s, 2);
}

/** Why a Sharpe ratio is undefined, or its convention when it is not. */
export function sharpeNote(days: number | undefined, sharpe: string | null | undefined): string {
  if (sharpe !== null && sharpe !== undefined) return `mean / sample stddev of daily realized PnL × √365, ${days} day(s)`;
  return (days ?? 0) < 2 ? `undefined: ${days ?? 0} day(s) of data, 2 needed` : 'undefined: the daily PnL does not vary';
}

/** Profit factor for people: undefined (never infinity) without a losing sell. */
export function profitFactor(s: string | null | undefined, losingSells: number): string {
  return s === null || s === undefined ? (losingSells === 0 ? 'n/a (no losing sells)' : 'n/a') : roundDecimal(s, 2);
}
