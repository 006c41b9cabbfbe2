/**
 * The one formatting of a table column's cells: quantities and money aligned on the decimal
 * point with one number of decimals per column, times with one width of fractional seconds.
 * Only digits are added or removed (trailing zeros), so every value stays exact.
 */

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?$/;
/** A number with a unit or note after a space (`2.16 h`, `74.16 h STALE`). */
const NUMBER_WITH_SUFFIX = /^(-?\d+(?:\.\d+)?)( \S.*)?$/;
/** Words that stand for a number a column does not have (`unknown` market value). */
const PLACEHOLDER = /^(unknown|n\/a|none|-|—)$/i;
const TIME = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

export interface FormattedColumn {
  cells: string[];
  /** Right-aligned (numbers); otherwise left. */
  right: boolean;
}

/**
 * A column of numbers gets `scale` decimals: enough to show every value exactly (trailing zeros
 * dropped first, so 7.500 and 7.5 are one value), and no fewer than every cell already had
 * (money the commands rounded to cents keeps its two).
 */
function numbers(cells: readonly string[]): string[] {
  const parts = cells.map((c) => (c === '' ? null : NUMBER.exec(c)));
  let floor = Infinity;
  let needed = 0;
  for (const m of parts) {
    if (!m) continue;
    const frac = m[3] ?? '';
    floor = Math.min(floor, frac.length);
    needed = Math.max(needed, frac.replace(/0+$/, '').length);
  }
  const scale = Math.max(needed, floor === Infinity ? 0 : floor);
  return parts.map((m, i) => {
    if (!m) return cells[i]!; // empty, or a placeholder
    const frac = (m[3] ?? '').replace(/0+$/, '').padEnd(scale, '0');
    return `${m[1]}${m[2]}${scale > 0 ? `.${frac}` : ''}`;
  });
}

/** Times with fractional seconds get one width: 3 digits, or 6 when some cell has more than 3. */
function times(cells: readonly string[]): string[] {
  const parts = cells.map((c) => (c === '' ? null : TIME.exec(c)!));
  const longest = Math.max(0, ...parts.map((m) => (m?.[2] ?? '').length));
  const width = longest === 0 ? 0 : longest <= 3 ? 3 : 6;
  return parts.map((m) => {
    if (!m) return '';
    const frac = (m[2] ?? '').padEnd(width, '0');
    // more than 6 digits is not a PostgreSQL time; keep such text as it is
    return frac.length > width ? m[0] : `${m[1]}${width > 0 ? `.${frac}` : ''}${m[3] ?? ''}`;
  });
}

/** The cells of one column as shown: numbers aligned on the point, times of one width, text as it is. */
export function formatColumn(cells: readonly string[]): FormattedColumn {
  const filled = cells.filter((c) => c !== '');
  // one scale per column: right-aligned, the decimal points line up (a placeholder such as
  // `unknown` keeps its words, right-aligned too)
  if (filled.some((c) => NUMBER.test(c)) && filled.every((c) => NUMBER.test(c) || PLACEHOLDER.test(c))) {
    return { cells: numbers(cells), right: true };
  }
  // numbers with a unit after them: the numbers aligned as above, the units after them
  if (filled.length > 0 && filled.every((c) => NUMBER_WITH_SUFFIX.test(c))) {
    const split = cells.map((c) => (c === '' ? null : NUMBER_WITH_SUFFIX.exec(c)!));
    const nums = numbers(split.map((m) => m?.[1] ?? ''));
    const int = (n: string) => (n.includes('.') ? n.indexOf('.') : n.length);
    const width = Math.max(...nums.map(int));
    return { cells: split.map((m, i) => (m ? ' '.repeat(width - int(nums[i]!)) + nums[i]! + (m[2] ?? '') : '')), right: false };
  }
  if (filled.length > 0 && filled.every((c) => TIME.test(c))) return { cells: times(cells), right: false };
  return { cells: [...cells], right: false };
}
