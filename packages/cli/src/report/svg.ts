/**
 * Inline SVG charts for the HTML report: no script, no external resource, styles as
 * attributes (mail clients drop <style>). Amounts are converted to Number for geometry and
 * axis ticks only; every amount printed as a value comes from the exact decimal text.
 */
import { money, signOf } from './decimal.ts';

export const COLORS = {
  text: '#1f2328',
  muted: '#656d76',
  grid: '#d8dee4',
  axis: '#8c959f',
  pos: '#1a7f37',
  posFill: '#dafbe1',
  neg: '#cf222e',
  negFill: '#ffebe9',
  line: '#0969da',
  area: '#ddf4ff',
  fee: '#8250df',
  warn: '#bf8700',
  flat: '#afb8c1',
} as const;

const FONT = `font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"`;

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const f = (n: number): string => (Math.round(n * 10) / 10).toString();

/** Round tick values covering [lo, hi] (and 0). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  let a = Math.min(0, lo);
  let b = Math.max(0, hi);
  if (a === b) b = a + 1;
  const raw = (b - a) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  a = Math.floor(a / step) * step;
  b = Math.ceil(b / step) * step;
  const ticks: number[] = [];
  for (let v = a; v <= b + step / 2; v += step) ticks.push(Math.abs(v) < step / 1e6 ? 0 : v);
  return ticks;
}

/** Axis label: 1.5M, 12k, -350, 0.25. */
export function compact(v: number): string {
  const a = Math.abs(v);
  const trim = (x: number, d: number) => (d > 0 ? x.toFixed(d).replace(/\.?0+$/, '') : x.toFixed(0));
  if (a >= 1e9) return `${trim(v / 1e9, 1)}B`;
  if (a >= 1e6) return `${trim(v / 1e6, 1)}M`;
  if (a >= 1e4) return `${trim(v / 1e3, 0)}k`;
  if (a >= 1e3) return `${trim(v / 1e3, 1)}k`;
  return trim(v, a >= 10 ? 0 : 2);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;
const dayMs = (d: string): number => Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)));
function dayLabel(ms: number, withYear: boolean): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}${withYear ? ` ${d.getUTCFullYear()}` : ''}`;
}

export interface DayPoint {
  day: string; // YYYY-MM-DD
  value: string; // exact decimal
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function svgOpen(id: string, label: string, w: number, h: number): string {
  return `<svg id="${id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ` +
    `role="img" aria-label="${esc(label)}" style="display:block;max-width:100%;height:auto" ${FONT} font-size="12">` +
    `<title>${esc(label)}</title>`;
}

function emptyChart(id: string, label: string, w: number, h: number): string {
  return `${svgOpen(id, label, w, h)}<rect x="0.5" y="0.5" width="${w - 1}" height="${h - 1}" fill="#f6f8fa" stroke="${COLORS.grid}"/>` +
    `<text x="${w / 2}" y="${h / 2 + 4}" text-anchor="middle" fill="${COLORS.muted}">no sells in this range</text></svg>`;
}

/** Horizontal grid lines and labels of a value axis; returns the scale too. */
function valueAxis(fr: Frame, ticks: number[]): { y: (v: number) => number; svg: string } {
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const plotH = fr.height - fr.top - fr.bottom;
  const y = (v: number) => fr.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  const svg = ticks.map((t) => {
    const ty = f(y(t));
    return `<line x1="${fr.left}" x2="${fr.width - fr.right}" y1="${ty}" y2="${ty}" stroke="${t === 0 ? COLORS.axis : COLORS.grid}"` +
      `${t === 0 ? '' : ' stroke-dasharray="3 3"'} stroke-width="1"/>` +
      `<text x="${fr.left - 6}" y="${f(y(t) + 4)}" text-anchor="end" fill="${COLORS.muted}">${esc(compact(t))}</text>`;
  }).join('');
  return { y, svg };
}

/** Day slots from the first to the last day (days without sells keep their place). */
function dayAxis(fr: Frame, days: readonly string[]): { x: (day: string) => number; slot: number; svg: string } {
  const first = dayMs(days[0]!);
  const last = dayMs(days[days.length - 1]!);
  const n = Math.round((last - first) / DAY_MS) + 1;
  const plotW = fr.width - fr.left - fr.right;
  const slot = plotW / n;
  const x = (day: string) => fr.left + (Math.round((dayMs(day) - first) / DAY_MS) + 0.5) * slot;
  const labels = Math.min(n, 7);
  const years = new Date(first).getUTCFullYear() !== new Date(last).getUTCFullYear();
  const idx = labels === 1 ? [0] : Array.from({ length: labels }, (_, i) => Math.round((i * (n - 1)) / (labels - 1)));
  const base = fr.height - fr.bottom;
  const svg = [...new Set(idx)].map((i) => {
    const ms = first + i * DAY_MS;
    const tx = f(fr.left + (i + 0.5) * slot);
    return `<line x1="${tx}" x2="${tx}" y1="${base}" y2="${base + 4}" stroke="${COLORS.axis}"/>` +
      `<text x="${tx}" y="${base + 17}" text-anchor="middle" fill="${COLORS.muted}">${dayLabel(ms, years && (i === 0 || i === n - 1))}</text>`;
  }).join('');
  return { x, slot, svg };
}

export interface EquityDay {
  day: string; // YYYY-MM-DD
  cumulative: string; // exact decimal, at the day's close
  peak: string; // the highest close so far (the start, 0, included)
}

/**
 * The equity curve: cumulative realized PnL at each day's close (from a zero start the day
 * before the first), the running peak dashed, the drawdown (peak above the curve) shaded, and
 * the maximum drawdown's peak and trough marked.
 */
export function equityChart(points: readonly EquityDay[], opts: { id: string; label: string; peakDay?: string | null; troughDay?: string | null }): string {
  const fr: Frame = { width: 920, height: 280, left: 64, right: 24, top: 22, bottom: 30 };
  if (points.length === 0) return emptyChart(opts.id, opts.label, fr.width, fr.height);
  const start = new Date(dayMs(points[0]!.day) - DAY_MS).toISOString().slice(0, 10);
  const all: EquityDay[] = [{ day: start, cumulative: '0', peak: '0' }, ...points];
  const cum = all.map((p) => Number(p.cumulative));
  const peak = all.map((p) => Number(p.peak));
  const { y, svg: grid } = valueAxis(fr, niceTicks(Math.min(...cum), Math.max(...peak)));
  const { x, svg: xAxis } = dayAxis(fr, all.map((p) => p.day));
  const px = all.map((p) => f(x(p.day)));
  const line = all.map((_, i) => `${i === 0 ? 'M' : 'L'}${px[i]},${f(y(cum[i]!))}`).join(' ');
  const peakLine = all.map((_, i) => `${i === 0 ? 'M' : 'L'}${px[i]},${f(y(peak[i]!))}`).join(' ');
  const dd = `${all.map((_, i) => `${i === 0 ? 'M' : 'L'}${px[i]},${f(y(peak[i]!))}`).join(' ')} ` +
    `${all.map((_, i) => all.length - 1 - i).map((i) => `L${px[i]},${f(y(cum[i]!))}`).join(' ')} Z`;
  const lastP = all[all.length - 1]!;
  const color = signOf(lastP.cumulative) < 0 ? COLORS.neg : COLORS.line;
  const mark = (day: string | null | undefined, cls: string, label: string) => {
    const i = day ? all.findIndex((p) => p.day === day) : -1;
    if (i < 0) return '';
    return `<circle class="${cls}" cx="${px[i]}" cy="${f(y(cum[i]!))}" r="4.5" fill="#ffffff" stroke="${COLORS.neg}" stroke-width="2">` +
      `<title>${label} ${esc(day!)}: ${esc(money(all[i]!.cumulative))}</title></circle>`;
  };
  const dots = all.length <= 62
    ? all.map((p, i) => `<circle class="point" cx="${px[i]}" cy="${f(y(cum[i]!))}" r="2.5" fill="${color}"><title>${p.day}: ${esc(money(p.cumulative))}</title></circle>`).join('')
    : '';
  return `${svgOpen(opts.id, opts.label, fr.width, fr.height)}${grid}${xAxis}` +
    `<path class="drawdown" d="${dd}" fill="${COLORS.negFill}" stroke="none" fill-rule="nonzero"/>` +
    `<path class="peak" d="${peakLine}" fill="none" stroke="${COLORS.axis}" stroke-width="1" stroke-dasharray="4 3"/>` +
    `<path class="line" d="${line}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>${dots}` +
    mark(opts.peakDay, 'dd-peak', 'peak') + mark(opts.troughDay, 'dd-trough', 'trough') +
    `<text class="end-label" x="${fr.width - fr.right}" y="${fr.top - 6}" text-anchor="end" font-weight="600" fill="${color}">` +
    `${esc(lastP.day)}: ${esc(money(lastP.cumulative))}</text></svg>`;
}

/** One bar per UTC day, green above zero and red below (or a single color). */
export function dailyBarChart(points: readonly DayPoint[], opts: { id: string; label: string; color?: string; height?: number }): string {
  const fr: Frame = { width: 920, height: opts.height ?? 220, left: 64, right: 24, top: 12, bottom: 30 };
  if (points.length === 0) return emptyChart(opts.id, opts.label, fr.width, fr.height);
  const values = points.map((p) => Number(p.value));
  const { y, svg: grid } = valueAxis(fr, niceTicks(Math.min(...values), Math.max(...values), 4));
  const { x, slot, svg: xAxis } = dayAxis(fr, points.map((p) => p.day));
  const w = Math.max(1, slot * 0.72);
  const y0 = y(0);
  const bars = points.map((p, i) => {
    if (signOf(p.value) === 0) return '';
    const yv = y(values[i]!);
    const neg = signOf(p.value) < 0;
    const fill = opts.color ?? (neg ? COLORS.neg : COLORS.pos);
    const top = Math.min(yv, y0);
    const h = Math.max(Math.abs(y0 - yv), 1);
    return `<rect class="bar ${neg ? 'neg' : 'pos'}" x="${f(x(p.day) - w / 2)}" y="${f(top)}" width="${f(w)}" height="${f(h)}" fill="${fill}">` +
      `<title>${p.day}: ${esc(money(p.value))}</title></rect>`;
  }).join('');
  return `${svgOpen(opts.id, opts.label, fr.width, fr.height)}${grid}${xAxis}${bars}</svg>`;
}

export interface NamedValue {
  name: string;
  value: string;
}

/** Horizontal bars per name around a zero axis, sorted by value, largest gains first. */
export function symbolBarChart(items: readonly NamedValue[], id = 'chart-pnl-by-symbol', max = 40, label = 'Realized PnL by symbol'): string {
  const sorted = [...items].sort((a, b) => Number(b.value) - Number(a.value) || (a.name < b.name ? -1 : 1));
  let shown: Array<NamedValue | null> = sorted;
  if (sorted.length > max) shown = [...sorted.slice(0, max / 2), null, ...sorted.slice(-max / 2)];
  const rowH = 22;
  const fr: Frame = { width: 920, height: 16 + shown.length * rowH + 26, left: 120, right: 110, top: 8, bottom: 26 };
  if (items.length === 0) return emptyChart(id, label, fr.width, 80);
  const values = items.map((i) => Number(i.value));
  const ticks = niceTicks(Math.min(...values), Math.max(...values), 5);
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const plotW = fr.width - fr.left - fr.right;
  const x = (v: number) => fr.left + ((v - lo) / (hi - lo)) * plotW;
  const base = fr.height - fr.bottom;
  const grid = ticks.map((t) => `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${fr.top}" y2="${base}" stroke="${t === 0 ? COLORS.axis : COLORS.grid}"` +
    `${t === 0 ? '' : ' stroke-dasharray="3 3"'}/><text x="${f(x(t))}" y="${base + 16}" text-anchor="middle" fill="${COLORS.muted}">${esc(compact(t))}</text>`).join('');
  const x0 = x(0);
  const rows = shown.map((it, i) => {
    const cy = fr.top + i * rowH + rowH / 2;
    if (it === null) {
      return `<text x="${fr.left}" y="${f(cy + 4)}" fill="${COLORS.muted}" font-style="italic">… ${sorted.length - max} more (see the table) …</text>`;
    }
    const v = Number(it.value);
    const neg = signOf(it.value) < 0;
    const xv = x(v);
    const bx = Math.min(xv, x0);
    const bw = Math.max(Math.abs(xv - x0), signOf(it.value) === 0 ? 0 : 1);
    const valueX = neg ? bx - 5 : bx + bw + 5;
    return `<g class="row"><text x="${fr.left - 8}" y="${f(cy + 4)}" text-anchor="end" fill="${COLORS.text}">${esc(it.name)}</text>` +
      `<rect class="bar ${neg ? 'neg' : 'pos'}" x="${f(bx)}" y="${f(cy - 7)}" width="${f(bw)}" height="14" rx="2" fill="${neg ? COLORS.neg : COLORS.pos}">` +
      `<title>${esc(it.name)}: ${esc(money(it.value))}</title></rect>` +
      `<text class="value" x="${f(valueX)}" y="${f(cy + 4)}" text-anchor="${neg ? 'end' : 'start'}" fill="${COLORS.muted}">${esc(money(it.value))}</text></g>`;
  }).join('');
  return `${svgOpen(id, label, fr.width, fr.height)}${grid}${rows}</svg>`;
}

export interface Share {
  name: string;
  count: number;
  color: string;
}

/** A 100 % stacked bar of counts (e.g. won / lost / breakeven / unmatched sells) with a legend. */
export function shareBar(parts: readonly Share[], id: string, label: string): string {
  const w = 920;
  const h = 64;
  const total = parts.reduce((s, p) => s + p.count, 0);
  if (total === 0) return emptyChart(id, label, w, h);
  let x = 0;
  const segs = parts.filter((p) => p.count > 0).map((p) => {
    const sw = (p.count / total) * w;
    const r = `<rect class="share ${esc(p.name.replace(/\W+/g, '-'))}" x="${f(x)}" y="0" width="${f(sw)}" height="26" fill="${p.color}">` +
      `<title>${esc(p.name)}: ${p.count}</title></rect>`;
    x += sw;
    return r;
  }).join('');
  let lx = 0;
  const legend = parts.map((p) => {
    const text = `${p.name}: ${p.count.toLocaleString('en-US')} (${((p.count / total) * 100).toFixed(1)} %)`;
    const item = `<rect x="${f(lx)}" y="40" width="12" height="12" rx="2" fill="${p.color}"/>` +
      `<text x="${f(lx + 17)}" y="50" fill="${COLORS.text}">${esc(text)}</text>`;
    lx += 30 + text.length * 6.6;
    return item;
  }).join('');
  return `${svgOpen(id, label, w, h)}${segs}${legend}</svg>`;
}
