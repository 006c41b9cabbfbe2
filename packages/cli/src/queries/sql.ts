/** SQL fragments every query module shares. */

/**
 * The one UTC time format of what the CLI prints and writes: ISO 8601 in UTC with the
 * fraction's trailing zeros dropped (2026-01-05T10:20:00Z, 2026-01-05T10:20:00.25Z).
 */
export const utcIso = (col: string): string =>
  `regexp_replace(to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '\\.?0+Z$', 'Z')`;

/** The quote currency of a symbol BASE-QUOTE (the ledger's rule, as in v_tax_lots and migration 011). */
export const quoteOf = (col: string): string => `split_part(${col}, '-', 2)`;
