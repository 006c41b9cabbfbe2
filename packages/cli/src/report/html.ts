/**
 * The report as one self-contained HTML file for the daily mail: no script, no network, no
 * web font; table layout with inline styles (what mail clients keep) and inline SVG charts.
 * Every figure carries its exact decimal value in a data-value attribute. Key figures and
 * charts come one set per quote currency (ids suffixed with the quote): nothing adds USD to BTC.
 */
import { healthLines } from '../health/assess.ts';
import { columnsFor, METRIC_COLUMNS, valueOf, type FigureColumn } from './columns.ts';
import { money, profitFactor, ratio, sharpeNote, signOf } from './decimal.ts';
import { unmatchedSellCount, type BreakdownRow, type MetricRow, type QuoteTotals, type ReportData } from './query.ts';
import { COLORS, dailyBarChart, equityChart, esc, shareBar, symbolBarChart } from './svg.ts';
import { isStale, keyLabel, metricsOf, rangeText } from './text.ts';

const FONT = `-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif`;
const CARD = `background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:16px 20px;margin:0 0 16px 0`;
const H2 = `margin:0 0 4px 0;font-size:16px;font-weight:600;color:${COLORS.text}`;
const NOTE = `margin:0 0 12px 0;font-size:12px;color:${COLORS.muted}`;
const TH = `text-align:right;padding:6px 8px;border-bottom:2px solid #d0d7de;font-weight:600;white-space:nowrap`;
const TD = `text-align:right;padding:5px 8px;border-bottom:1px solid #eaeef2;white-space:nowrap;font-variant-numeric:tabular-nums`;

const pnlColor = (s: string | null | undefined) => (signOf(s) < 0 ? COLORS.neg : signOf(s) > 0 ? COLORS.pos : COLORS.text);
const int = (n: number) => n.toLocaleString('en-US');

function kpi(id: string, label: string, shown: string, exact: string | number | null, color: string = COLORS.text, sub = ''): string {
  return `<td id="${id}" class="kpi" data-value="${esc(String(exact ?? ''))}" style="width:25%;padding:10px 12px;vertical-align:top;border:1px solid #d0d7de;background:#ffffff">` +
    `<div style="font-size:12px;color:${COLORS.muted};text-transform:uppercase;letter-spacing:0.04em">${esc(label)}</div>` +
    `<div class="kpi-value" style="font-size:22px;font-weight:600;color:${color};margin-top:4px;font-variant-numeric:tabular-nums">${esc(shown)}</div>` +
    `<div style="font-size:12px;color:${COLORS.muted};margin-top:2px">${sub}</div></td>`;
}

function section(title: string, note: string, body: string, id?: string): string {
  return `<div${id ? ` id="${id}"` : ''} style="${CARD}"><h2 style="${H2}">${esc(title)}</h2>` +
    `${note ? `<p style="${NOTE}">${note}</p>` : ''}${body}</div>`;
}

function htmlShown(c: FigureColumn, v: unknown): string {
  if (c.shown === 'money') return money(v as string | undefined);
  if (c.shown === 'pct') return (v as string | null) ?? '–';
  if (c.shown === 'count') return c.blankZero && !v ? '' : int(v as number);
  return String(v ?? '');
}

function breakdownTable(d: ReportData): string {
  const cols = columnsFor('html', d.by);
  const left = (c: FigureColumn) => (c.shown === 'text' ? ';text-align:left' : '');
  const head = `<tr><th style="${TH};text-align:left">${esc(d.by)}</th>${cols.map((c) => `<th style="${TH}${left(c)}">${esc(c.html!)}</th>`).join('')}</tr>`;
  const cell = (r: BreakdownRow, c: FigureColumn) => {
    const v = valueOf(r, c);
    const color = c.signed ? pnlColor(v as string | undefined) : COLORS.text;
    const exact = c.signed === 'exact' ? ` data-value="${esc(String(v))}"` : '';
    return `<td style="${TD};color:${color}${left(c)}"${exact}>${esc(htmlShown(c, v))}</td>`;
  };
  const body = d.rows.map((r) => `<tr class="group" data-quote="${esc(r.quote)}"><td style="${TD};text-align:left">${esc(keyLabel(r.key))}</td>${cols.map((c) => cell(r, c)).join('')}</tr>`).join('');
  // one total row per quote currency
  const totalCell = (t: QuoteTotals, c: FigureColumn) => {
    if (!c.total) return `<td style="${TD}"></td>`;
    const v = valueOf(t, c);
    if (c.shown === 'text') return `<td style="${TD};text-align:left">${esc(String(v))}</td>`;
    if (c.signed === 'exact') return `<td style="${TD};color:${pnlColor(v as string)}" data-value="${esc(String(v))}">${htmlShown(c, v)}</td>`;
    return `<td style="${TD}">${htmlShown(c, v)}</td>`;
  };
  const total = d.totals.map((t) => `<tr class="total" data-quote="${esc(t.quote)}" style="font-weight:600"><td style="${TD};text-align:left">total</td>` +
    `${cols.map((c) => totalCell(t, c)).join('')}</tr>`).join('');
  return `<table id="breakdown" role="table" cellspacing="0" cellpadding="0" style="border-collapse:collapse;width:100%;font-size:13px;color:${COLORS.text}">` +
    `${head}${body}${total}</table>`;
}

function unmatchedTable(d: ReportData): string {
  const count = unmatchedSellCount(d);
  if (count === 0) {
    return `<p id="unmatched-sells" data-count="0" style="margin:0;color:${COLORS.pos};font-size:13px">None: every sell in this range is matched to buys.</p>`;
  }
  const head = ['symbol', 'sell order', 'sell time (UTC)', 'unmatched size', 'of sell size', 'proceeds', 'review']
    .map((c, i) => `<th style="${TH}${i < 3 || i === 6 ? ';text-align:left' : ''}">${c}</th>`).join('');
  const rows = d.unmatched.map((u) => `<tr class="unmatched"><td style="${TD};text-align:left">${esc(u.symbol)}</td>` +
    `<td style="${TD};text-align:left">${esc(u.sell_order_id)}</td><td style="${TD};text-align:left">${esc(u.sell_time.replace('T', ' ').replace('Z', ''))}</td>` +
    `<td style="${TD}">${esc(u.unmatched_size)}</td><td style="${TD}">${esc(u.sell_size ?? '')}</td>` +
    `<td style="${TD}" data-value="${esc(u.unmatched_proceeds_usd)}">${money(u.unmatched_proceeds_usd)}</td>` +
    `<td style="${TD};text-align:left;color:${u.review_status === 'pending' ? COLORS.warn : COLORS.muted}">${esc(u.review_status)}</td></tr>`).join('');
  const more = d.unmatched.length < count
    ? `<p style="${NOTE};margin-top:8px">Newest ${d.unmatched.length} of ${int(count)}; all of them: <code>fifo review list</code> or <code>SELECT * FROM v_unmatched_sells</code>.</p>` : '';
  return `<table id="unmatched-sells" data-count="${count}" cellspacing="0" cellpadding="0" style="border-collapse:collapse;width:100%;font-size:13px;color:${COLORS.text}">` +
    `<tr>${head}</tr>${rows}</table>${more}`;
}

function metricsHtml(rows: readonly MetricRow[], dim: string): string {
  const left = (i: number) => (i === 0 ? ';text-align:left' : '');
  const head = `<tr><th style="${TH};text-align:left">${esc(dim)}</th>${METRIC_COLUMNS.map((c, i) => `<th style="${TH}${left(i)}">${esc(c.label)}</th>`).join('')}</tr>`;
  const cell = (r: MetricRow, i: number) => {
    const c = METRIC_COLUMNS[i]!;
    const v = r[c.key];
    const shown = c.shown === 'money' ? (v === null ? 'n/a' : money(v as string)) : c.shown === 'ratio' ? ratio(v as string | null)
      : c.shown === 'pct' ? ((v as string | null) ?? 'n/a') : c.shown === 'count' ? int(v as number) : String(v);
    const color = c.shown === 'money' && c.key !== 'avg_win' && c.key !== 'avg_loss' && c.key !== 'largest_win' && c.key !== 'largest_loss'
      ? pnlColor(v as string | null) : COLORS.text;
    return `<td class="m-${esc(c.key)}" style="${TD};color:${color}${left(i)}" data-value="${esc(String(v ?? ''))}">${esc(shown)}</td>`;
  };
  const body = rows.map((r) => `<tr class="metric" data-key="${esc(r.key ?? '')}" data-quote="${esc(r.quote)}"><td style="${TD};text-align:left">${esc(keyLabel(r.key))}</td>` +
    `${METRIC_COLUMNS.map((_, i) => cell(r, i)).join('')}</tr>`).join('');
  return `<table id="metrics-by-${esc(dim)}" cellspacing="0" cellpadding="0" style="border-collapse:collapse;width:100%;font-size:13px;color:${COLORS.text}">${head}${body}</table>`;
}

function positionsHtml(d: ReportData): string {
  if (d.positions === null) return `<p id="open-positions" data-count="" style="margin:0;font-size:13px">Not available: ${esc(d.positions_unavailable ?? '')}.</p>`;
  if (d.positions.length === 0) return `<p id="open-positions" data-count="0" style="margin:0;font-size:13px">Nothing open.</p>`;
  const cols = ['symbol', 'quote', 'quantity', 'cost basis', 'price', 'price time (UTC)', 'market value', 'unrealized PnL', 'oldest lot'];
  const head = cols.map((c, i) => `<th style="${TH}${i <= 1 || i === 5 ? ';text-align:left' : ''}">${c}</th>`).join('');
  const unknown = `<span class="unknown" style="color:${COLORS.warn}">unknown</span>`;
  const rows = d.positions.map((p) => {
    const stale = isStale(p);
    return `<tr class="position${stale ? ' stale' : ''}${p.price === null ? ' no-price' : ''}" data-symbol="${esc(p.symbol)}" data-quote="${esc(p.quote)}">` +
      `<td style="${TD};text-align:left">${esc(p.symbol)}</td><td style="${TD};text-align:left">${esc(p.quote)}</td>` +
      `<td style="${TD}" data-value="${esc(p.quantity)}">${esc(p.quantity)}</td>` +
      `<td style="${TD}" data-value="${esc(p.cost_basis)}">${money(p.cost_basis)}</td>` +
      `<td style="${TD}" data-value="${esc(p.price ?? '')}">${p.price === null ? unknown : esc(p.price)}</td>` +
      `<td style="${TD};text-align:left" title="${esc(p.price_time ?? '')}">${p.price_time === null ? '' : esc(p.price_time.replace('T', ' ').slice(0, 16))}` +
      `${stale ? `<br><span class="stale-mark" style="color:${COLORS.warn};font-weight:600">stale (${esc(p.price_age_hours ?? '')} h)</span>` : ''}</td>` +
      `<td class="market-value" style="${TD}" data-value="${esc(p.market_value ?? '')}">${p.market_value === null ? unknown : money(p.market_value)}</td>` +
      `<td class="unrealized" style="${TD};color:${pnlColor(p.unrealized_pnl)}" data-value="${esc(p.unrealized_pnl ?? '')}">${p.unrealized_pnl === null ? unknown : money(p.unrealized_pnl)}</td>` +
      `<td style="${TD}">${esc(p.oldest_lot_age_days)} d</td></tr>`;
  }).join('');
  return `<table id="open-positions" data-count="${d.positions.length}" cellspacing="0" cellpadding="0" style="border-collapse:collapse;width:100%;font-size:13px;color:${COLORS.text}">` +
    `<tr>${head}</tr>${rows}</table>`;
}

function healthHtml(d: ReportData): string {
  const rows = healthLines(d.health).map(([k, v]) => `<tr><td style="${TD};text-align:left;color:${COLORS.muted}">${esc(k)}</td>` +
    `<td style="${TD};text-align:left">${esc(v)}</td></tr>`).join('');
  return `<table id="health" data-last-run-status="${esc(d.health.last_run_status ?? '')}" cellspacing="0" cellpadding="0" style="border-collapse:collapse;font-size:13px;color:${COLORS.text}">${rows}</table>`;
}

/** The key figures and charts of one quote currency; element ids end in `-<quote>`. */
function quoteSection(d: ReportData, t: QuoteTotals): string {
  const q = t.quote;
  const id = (name: string) => `${name}-${q}`;
  const daily = (d.daily ?? []).filter((r) => r.quote === q);
  const symbols = (d.symbols ?? []).filter((r) => r.quote === q);
  const breakeven = t.matched_sells - t.winning_sells - t.losing_sells;
  const fullyUnmatched = t.sells - t.matched_sells;
  const kpis = `<table id="${esc(id('totals'))}" class="totals" data-quote="${esc(q)}" cellspacing="8" cellpadding="0" style="width:100%;border-collapse:separate;margin:0 0 8px 0"><tr>` +
    kpi(id('total-pnl'), `Realized PnL (${q})`, money(t.realized_pnl_usd), t.realized_pnl_usd, pnlColor(t.realized_pnl_usd), `${int(t.sells)} sells`) +
    kpi(id('total-win-rate'), 'Win rate', t.win_rate_pct === null ? 'n/a' : `${t.win_rate_pct} %`, t.win_rate_pct, COLORS.text,
      `${int(t.winning_sells)} won · ${int(t.losing_sells)} lost`) +
    kpi(id('total-fees'), `Fees paid (${q})`, money(t.fees_usd), t.fees_usd, COLORS.fee, 'sell fees and the buy fee shares used') +
    kpi(id('total-unmatched'), 'Unmatched sells', int(t.unmatched_sells), t.unmatched_sells, t.unmatched_sells > 0 ? COLORS.neg : COLORS.pos,
      t.unmatched_sells > 0 ? `${esc(money(t.unmatched_proceeds_usd))} ${esc(q)} proceeds without cost basis` : 'every sell matched') +
    `</tr><tr>` +
    kpi(id('total-proceeds'), `Proceeds (${q})`, money(t.proceeds_usd), t.proceeds_usd, COLORS.text, 'matched parts, net of sell fees') +
    kpi(id('total-cost-basis'), `Cost basis (${q})`, money(t.cost_basis_usd), t.cost_basis_usd, COLORS.text, 'including buy fees') +
    kpi(id('total-sells'), 'Sells', int(t.sells), t.sells, COLORS.text, `${int(t.matched_sells)} with a matched part`) +
    kpi(id('total-symbols'), 'Symbols', int(symbols.length), symbols.length, COLORS.text,
      t.first_sell_time ? `${esc(t.first_sell_time.slice(0, 10))} to ${esc((t.last_sell_time ?? '').slice(0, 10))}` : 'no sells') +
    `</tr><tr>` +
    kpi(id('total-sharpe'), 'Sharpe ratio', ratio(t.sharpe_ratio), t.sharpe_ratio ?? null, COLORS.text, esc(sharpeNote(t.days, t.sharpe_ratio))) +
    kpi(id('total-max-drawdown'), `Max drawdown (${q})`, money(t.max_drawdown), t.max_drawdown ?? '', t.max_drawdown && signOf(t.max_drawdown) > 0 ? COLORS.neg : COLORS.text,
      t.peak_day ? `peak ${esc(t.peak_day)}, trough ${esc(t.trough_day ?? '')}; longest ${t.longest_drawdown_days ?? 0} day(s)` : 'never below a previous peak') +
    kpi(id('total-profit-factor'), 'Profit factor', profitFactor(t.profit_factor, t.losing_sells), t.profit_factor, COLORS.text,
      `gross ${esc(money(t.gross_profit))} / ${esc(money(t.gross_loss))}`) +
    kpi(id('total-expectancy'), `Expectancy (${q})`, t.expectancy === null ? 'n/a' : money(t.expectancy), t.expectancy, pnlColor(t.expectancy),
      `per sell · avg win ${esc(t.avg_win === null ? 'n/a' : money(t.avg_win))} · avg loss ${esc(t.avg_loss === null ? 'n/a' : money(t.avg_loss))}`) +
    `</tr></table>`;
  const equity = d.equity.filter((e) => e.quote === q);
  const bars = (dim: 'trigger' | 'source') => metricsOf(d, dim).filter((m) => m.quote === q)
    .map((m) => ({ name: keyLabel(m.key), value: m.realized_pnl }));
  return `<div id="${esc(id('quote'))}" class="quote" data-quote="${esc(q)}">` + [
    `<h2 style="margin:0 0 8px 0;font-size:18px;color:${COLORS.text}">In ${esc(q)}</h2>`,
    kpis,
    section(`Equity curve (${q})`,
      `Cumulative realized PnL at the close of each day (${esc(d.tz)}), from 0 the day before the first sell; dashed: the running peak; ` +
      `shaded: the drawdown below it${t.peak_day ? `; the largest, ${esc(money(t.max_drawdown))}, from ${esc(t.peak_day)} to ${esc(t.trough_day ?? '')} (circled)` : ''}.`,
      equityChart(equity.map((e) => ({ day: e.day, cumulative: e.cumulative_pnl, peak: e.peak_pnl })),
        { id: id('chart-equity'), label: `Equity curve: cumulative realized PnL (${q})`, peakDay: t.peak_day, troughDay: t.trough_day })),
    section(`Daily realized PnL (${q})`, `Realized PnL of the sells of each day (${esc(d.tz)}).`,
      dailyBarChart(daily.map((r) => ({ day: r.key ?? '', value: r.realized_pnl_usd })), { id: id('chart-daily-pnl'), label: `Daily realized PnL (${q})` })),
    section(`Realized PnL by symbol (${q})`, `${int(symbols.length)} symbol(s), largest gain first.`,
      symbolBarChart(symbols.map((r) => ({ name: r.key ?? '', value: r.realized_pnl_usd })), id('chart-pnl-by-symbol'))),
    section(`Realized PnL by trigger (${q})`, 'Which exit reason makes money; (none): sells without a trigger.',
      symbolBarChart(bars('trigger'), id('chart-pnl-by-trigger'), 40, `Realized PnL by trigger (${q})`)),
    section(`Realized PnL by source (${q})`, 'Which strategy makes money; (none): sells without a source.',
      symbolBarChart(bars('source'), id('chart-pnl-by-source'), 40, `Realized PnL by source (${q})`)),
    section('Win rate', `Winning sells over sells with a matched part: ${t.win_rate_pct === null ? 'n/a' : `${t.win_rate_pct} %`}.`,
      shareBar([
        { name: 'won', count: t.winning_sells, color: COLORS.pos },
        { name: 'lost', count: t.losing_sells, color: COLORS.neg },
        { name: 'breakeven', count: breakeven, color: COLORS.flat },
        { name: 'fully unmatched', count: fullyUnmatched, color: COLORS.warn },
      ], id('chart-win-rate'), `Sells won, lost, breakeven and unmatched (${q})`)),
    section(`Fees paid (${q})`, `Buy and sell fee shares of the sells of each day (${esc(d.tz)}); ${esc(money(t.fees_usd))} ${esc(q)} in all.`,
      dailyBarChart(daily.map((r) => ({ day: r.key ?? '', value: r.fees_usd })),
        { id: id('chart-daily-fees'), label: `Fees paid by day (${q})`, color: COLORS.fee, height: 170 })),
  ].join('\n') + '</div>';
}

export function renderHtml(d: ReportData): string {
  const title = `PnL report — allocation version ${d.version} (${d.method})`;
  const dirty = d.dirty_symbols > 0
    ? `<div id="stale-warning" style="${CARD};background:#fff8c5;border-color:#d4a72c;color:${COLORS.text};font-size:13px">` +
      `${int(d.dirty_symbols)} symbol(s) changed since the last computation: these figures may lag the ledger until <code>fifo compute</code> runs.</div>` : '';
  const quotes = d.totals.length === 0
    ? `<div id="no-sells" style="${CARD};font-size:13px">No sells in this range.</div>`
    : d.totals.map((t) => quoteSection(d, t)).join('\n');

  const body = [
    `<div style="margin:0 0 16px 0"><h1 style="margin:0;font-size:22px;color:${COLORS.text}">${esc(title)}</h1>` +
      `<p style="margin:4px 0 0 0;font-size:13px;color:${COLORS.muted}">${esc(rangeText(d))} (days in ${esc(d.tz)}) · generated ${esc(d.generated_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} · ` +
      `amounts in the quote currency of each symbol, totals per quote currency (${d.totals.map((t) => esc(t.quote)).join(', ') || 'none'}), rounded to 0.01</p></div>`,
    dirty,
    quotes,
    section(`By ${d.by}`, 'One row per group and quote currency; one total per quote currency.', breakdownTable(d)),
    ...(['trigger', 'source', 'symbol'] as const).map((dim) => section(
      dim === 'symbol' ? 'Leaderboard: trading metrics by symbol' : `Trading metrics by ${dim}`,
      `${dim === 'symbol' ? 'Best realized PnL first. ' : ''}Win rate over sells with a matched part; profit factor = gross profit / gross loss (n/a: no losing sell); expectancy = mean PnL per sell; ratios rounded to 0.01.`,
      metricsHtml(metricsOf(d, dim), dim), `metrics-${dim}`)),
    section(`Open positions (${d.positions?.length ?? 'n/a'})`,
      `At ${esc(d.positions_at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''))} UTC, marked at each symbol's latest price at or before then; no price: unknown (never 0); a price older than 24 h is stale.`,
      positionsHtml(d), 'positions'),
    section('FIFO health', 'From v_allocation_health: the engine\'s last allocations and run.', healthHtml(d), 'fifo-health'),
    section(`Unmatched sells (${int(unmatchedSellCount(d))})`,
      'Sells (or parts) no open buy covered: a ledger missing buys. Each is a review item; resolve with <code>fifo review</code>.',
      unmatchedTable(d), 'unmatched'),
    `<p style="${NOTE};text-align:center">fifo-ledger · read from v_trade_pnl and v_unmatched_sells · exact values: <code>fifo report --format csv</code></p>`,
  ].join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fifo-ledger">
<title>${esc(title)}</title>
</head>
<body style="margin:0;padding:0;background:#f6f8fa;font-family:${FONT};color:${COLORS.text}">
<table role="presentation" width="100%" cellspacing="0" cellpadding="0" style="background:#f6f8fa"><tr><td align="center" style="padding:24px 12px">
<div style="max-width:960px;margin:0 auto;text-align:left">
${body}
</div>
</td></tr></table>
</body>
</html>
`;
}
