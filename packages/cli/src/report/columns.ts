/**
 * The report's breakdown columns, once for every renderer: the CSV/JSON name, the label a
 * renderer shows (none: that renderer leaves the figure out), how the value is shown, and the
 * grouping a column belongs to. Text, HTML and CSV take their columns from here in this order,
 * so printing a new figure is one entry here (its SQL is one row of migration 021's
 * fifo_pnl_figure_defs, which the views and the report's JSON already carry).
 */
import type { BreakdownRow, GroupBy, MetricRow, QuoteTotals } from './query.ts';

export type Shown = 'text' | 'count' | 'pct' | 'money' | 'size' | 'ratio';

export interface FigureColumn {
  /**
   * A figure of the group rows and totals, or (risk metrics) of the per-quote totals only. Any
   * name of fifo_pnl_figure_defs is one too (the report carries every figure of that table), so
   * a figure added there needs no type here; a test checks each key against the report.
   */
  key: (keyof (BreakdownRow & QuoteTotals) & string) | (string & Record<never, never>);
  /** Label in the terminal table; absent: not shown there. */
  text?: string;
  /** Label in the HTML table; absent: not shown there. */
  html?: string;
  /** In the CSV (by its key); the exact value. */
  csv: boolean;
  shown: Shown;
  /** Only with this --by (e.g. the running total by day). */
  only?: GroupBy;
  /** Only in the terminal table with this --by (the CSV always has it). */
  textOnly?: GroupBy;
  /** Whether a per-quote total row carries it (else the cell is empty). */
  total: boolean;
  /** HTML: coloured by its sign; `exact` also carries the value in data-value. */
  signed?: 'exact' | 'color';
  /** CSV: after every other column (kept where the CSV has always had it). */
  csvLast?: boolean;
  /** HTML: a zero count is left blank. */
  blankZero?: boolean;
}

export const FIGURE_COLUMNS: readonly FigureColumn[] = [
  { key: 'quote', text: 'quote', html: 'quote', csv: true, shown: 'text', total: true },
  { key: 'sells', text: 'sells', html: 'sells', csv: true, shown: 'count', total: true },
  { key: 'winning_sells', text: 'won', csv: true, shown: 'count', total: true },
  { key: 'losing_sells', text: 'lost', csv: true, shown: 'count', total: true },
  { key: 'matched_sells', csv: true, shown: 'count', total: true },
  { key: 'win_rate_pct', text: 'win %', html: 'win %', csv: true, shown: 'pct', total: true },
  { key: 'proceeds_usd', text: 'proceeds', html: 'proceeds', csv: true, shown: 'money', total: true },
  { key: 'cost_basis_usd', text: 'cost basis', html: 'cost basis', csv: true, shown: 'money', total: true },
  { key: 'realized_pnl_usd', text: 'realized PnL', html: 'realized PnL', csv: true, shown: 'money', total: true, signed: 'exact' },
  { key: 'cumulative_pnl_usd', text: 'cumulative', html: 'cumulative', csv: true, shown: 'money', only: 'day', total: false, signed: 'color', csvLast: true },
  { key: 'fees_usd', text: 'fees', html: 'fees', csv: true, shown: 'money', total: true },
  { key: 'unmatched_sells', text: 'unmatched', html: 'unmatched', csv: true, shown: 'count', total: true, blankZero: true },
  { key: 'unmatched_proceeds_usd', csv: true, shown: 'money', total: true },
  { key: 'first_sell_time', csv: true, shown: 'text', total: true },
  { key: 'last_sell_time', csv: true, shown: 'text', total: true },
  { key: 'unmatched_size', text: 'unmatched size', csv: true, shown: 'size', textOnly: 'symbol', total: false },
  // migration 016's trading metrics of each group and total
  { key: 'gross_profit', csv: true, shown: 'money', total: true },
  { key: 'gross_loss', csv: true, shown: 'money', total: true },
  { key: 'avg_win', csv: true, shown: 'money', total: true },
  { key: 'avg_loss', csv: true, shown: 'money', total: true },
  { key: 'profit_factor', csv: true, shown: 'ratio', total: true },
  { key: 'expectancy', csv: true, shown: 'money', total: true },
  { key: 'largest_win', csv: true, shown: 'money', total: true },
  { key: 'largest_loss', csv: true, shown: 'money', total: true },
  // its risk metrics: per quote currency, on the total rows only (the group cells are empty)
  { key: 'days', csv: true, shown: 'count', total: true },
  { key: 'mean_daily_pnl', csv: true, shown: 'money', total: true },
  { key: 'stddev_daily_pnl', csv: true, shown: 'money', total: true },
  { key: 'sharpe_ratio', csv: true, shown: 'ratio', total: true },
  { key: 'max_drawdown', csv: true, shown: 'money', total: true },
  { key: 'peak_day', csv: true, shown: 'text', total: true },
  { key: 'trough_day', csv: true, shown: 'text', total: true },
  { key: 'longest_drawdown_days', csv: true, shown: 'count', total: true },
  { key: 'current_drawdown', csv: true, shown: 'money', total: true },
];

/** The trading-metrics tables (by symbol, source, trigger) of the terminal and HTML reports. */
export interface MetricColumn {
  key: keyof MetricRow & string;
  label: string;
  shown: Shown;
}

export const METRIC_COLUMNS: readonly MetricColumn[] = [
  { key: 'quote', label: 'quote', shown: 'text' },
  { key: 'sells', label: 'sells', shown: 'count' },
  { key: 'win_rate_pct', label: 'win %', shown: 'pct' },
  { key: 'realized_pnl', label: 'realized PnL', shown: 'money' },
  { key: 'avg_win', label: 'avg win', shown: 'money' },
  { key: 'avg_loss', label: 'avg loss', shown: 'money' },
  { key: 'profit_factor', label: 'profit factor', shown: 'ratio' },
  { key: 'expectancy', label: 'expectancy', shown: 'money' },
  { key: 'largest_win', label: 'largest win', shown: 'money' },
  { key: 'largest_loss', label: 'largest loss', shown: 'money' },
];

/** Ratios (profit factor, Sharpe) are shown to this many decimals; the CSV and JSON carry them exact. */
export const RATIO_PLACES = 2;

/** A column's value in a group row or a total (a risk figure is absent from group rows). */
export function valueOf(r: BreakdownRow | QuoteTotals, c: FigureColumn): unknown {
  return (r as unknown as Record<string, unknown>)[c.key];
}

/** The columns of one renderer for a --by. */
export function columnsFor(renderer: 'text' | 'html' | 'csv', by: GroupBy): FigureColumn[] {
  const cols = FIGURE_COLUMNS.filter((c) => (c.only === undefined || c.only === by) &&
    (renderer === 'csv' ? c.csv : c[renderer] !== undefined && (renderer !== 'text' || c.textOnly === undefined || c.textOnly === by)));
  return renderer === 'csv' ? [...cols.filter((c) => !c.csvLast), ...cols.filter((c) => c.csvLast)] : cols;
}
