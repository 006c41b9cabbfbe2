/**
 * The report as one self-contained HTML file for the daily mail: no script, no network, no
 * web font; table layout with inline styles (what mail clients keep) and inline SVG charts.
 * Every figure carries its exact decimal value in a data-value attribute. Key figures and
 * charts come one set per quote currency (ids suffixed with the quote): nothing adds USD to BTC.
 */
import { columnsFor, type FigureColumn } from './columns.ts';
import { money, signOf } from './decimal.ts';
import { unmatchedSellCount, type BreakdownRow, type QuoteTotals, type ReportData } from './query.ts';
import { COLORS, cumulativeChart, dailyBarChart, esc, shareBar, symbolBarChart } from './svg.ts';
import { keyLabel, rangeText } from './text.ts';

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
    const v = r[c.key];
    const color = c.signed ? pnlColor(v as string | undefined) : COLORS.text;
    const exact = c.signed === 'exact' ? ` data-value="${esc(String(v))}"` : '';
    return `<td style="${TD};color:${color}${left(c)}"${exact}>${esc(htmlShown(c, v))}</td>`;
  };
  const body = d.rows.map((r) => `<tr class="group" data-quote="${esc(r.quote)}"><td style="${TD};text-align:left">${esc(keyLabel(r.key))}</td>${cols.map((c) => cell(r, c)).join('')}</tr>`).join('');
  // one total row per quote currency
  const totalCell = (t: QuoteTotals, c: FigureColumn) => {
    if (!c.total) return `<td style="${TD}"></td>`;
    const v = t[c.key as keyof QuoteTotals];
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
    `</tr></table>`;
  return `<div id="${esc(id('quote'))}" class="quote" data-quote="${esc(q)}">` + [
    `<h2 style="margin:0 0 8px 0;font-size:18px;color:${COLORS.text}">In ${esc(q)}</h2>`,
    kpis,
    section(`Cumulative realized PnL (${q})`, 'Running total of realized PnL by the UTC day of the sell.',
      cumulativeChart(daily.map((r) => ({ day: r.key ?? '', value: r.cumulative_pnl_usd ?? '0' })), id('chart-cumulative-pnl'))),
    section(`Daily realized PnL (${q})`, 'Realized PnL of the sells of each UTC day.',
      dailyBarChart(daily.map((r) => ({ day: r.key ?? '', value: r.realized_pnl_usd })), { id: id('chart-daily-pnl'), label: `Daily realized PnL (${q})` })),
    section(`Realized PnL by symbol (${q})`, `${int(symbols.length)} symbol(s), largest gain first.`,
      symbolBarChart(symbols.map((r) => ({ name: r.key ?? '', value: r.realized_pnl_usd })), id('chart-pnl-by-symbol'))),
    section('Win rate', `Winning sells over sells with a matched part: ${t.win_rate_pct === null ? 'n/a' : `${t.win_rate_pct} %`}.`,
      shareBar([
        { name: 'won', count: t.winning_sells, color: COLORS.pos },
        { name: 'lost', count: t.losing_sells, color: COLORS.neg },
        { name: 'breakeven', count: breakeven, color: COLORS.flat },
        { name: 'fully unmatched', count: fullyUnmatched, color: COLORS.warn },
      ], id('chart-win-rate'), `Sells won, lost, breakeven and unmatched (${q})`)),
    section(`Fees paid (${q})`, `Buy and sell fee shares of the sells of each UTC day; ${esc(money(t.fees_usd))} ${esc(q)} in all.`,
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
      `<p style="margin:4px 0 0 0;font-size:13px;color:${COLORS.muted}">${esc(rangeText(d))} (UTC) · generated ${esc(d.generated_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} · ` +
      `amounts in the quote currency of each symbol, totals per quote currency (${d.totals.map((t) => esc(t.quote)).join(', ') || 'none'}), rounded to 0.01</p></div>`,
    dirty,
    quotes,
    section(`By ${d.by}`, 'One row per group and quote currency; one total per quote currency.', breakdownTable(d)),
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
