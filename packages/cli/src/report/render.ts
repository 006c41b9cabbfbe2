/** The report in each output format. */
import { renderHtml } from './html.ts';
import type { ReportData } from './query.ts';
import { renderCsv, renderJson, renderText } from './text.ts';

export type ReportFormat = 'table' | 'csv' | 'json' | 'html';

export function renderReport(data: ReportData, format: ReportFormat): string {
  switch (format) {
    case 'table': return `${renderText(data)}\n`;
    case 'csv': return renderCsv(data);
    case 'json': return renderJson(data);
    case 'html': return renderHtml(data);
  }
}
