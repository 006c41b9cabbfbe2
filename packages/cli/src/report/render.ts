/** The report in each output format. */
import { renderEml, type MailHeaders } from './eml.ts';
import { renderHtml } from './html.ts';
import type { ReportData } from './query.ts';
import { renderCsv, renderJson, renderText } from './text.ts';

export type ReportFormat = 'table' | 'csv' | 'json' | 'html' | 'eml';

/** `mail` is required for eml (its headers). */
export function renderReport(data: ReportData, format: ReportFormat, mail?: MailHeaders): string {
  switch (format) {
    case 'table': return `${renderText(data)}\n`;
    case 'csv': return renderCsv(data);
    case 'json': return renderJson(data);
    case 'html': return renderHtml(data);
    case 'eml':
      if (!mail) throw new Error('renderReport: eml needs the mail headers');
      return renderEml(data, mail);
  }
}
