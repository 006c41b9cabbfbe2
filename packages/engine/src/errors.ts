/**
 * Typed input error of the engine. Thrown for any invalid trade or state; when it is thrown the
 * engine returns nothing (no partial rows, the input state is untouched).
 */
export class EngineInputError extends Error {
  /** Order id of the offending trade (or open lot of the state); null when it has none. */
  readonly orderId: string | null;
  /** Offending field, e.g. `size`, `time`, `side`, `orderId`, `symbol`, `state.lots[2].remaining`. */
  readonly field: string;
  /** The offending value as received. */
  readonly value: unknown;
  /** Position of the trade in the batch (null for state errors). */
  readonly index: number | null;

  constructor(message: string, orderId: string | null, field: string, value: unknown, index: number | null = null) {
    super(message);
    this.name = 'EngineInputError';
    this.orderId = orderId;
    this.field = field;
    this.value = value;
    this.index = index;
  }
}

/** Short, safe rendering of an arbitrary input value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? value.slice(0, 57) + '...' : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'bigint') return `${value.toString()}n (bigint)`;
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return `${String(value)} (number)`;
  if (typeof value === 'object') return Array.isArray(value) ? '(array)' : '(object)';
  return `${String(value)} (${typeof value})`;
}
