/** `fifo report`'s --tz and mail flags, and migration 016's metric functions with an unknown zone (issue 13). */
import type { CaseContext, Cases } from './context.ts';

export function cases({ cli, sql, dir }: CaseContext): Cases {
  const out = () => `${dir()}/never.eml`;
  return {
    'report-tz-unknown': cli(['report', '--tz', 'Mars/Olympus']),
    'report-eml-no-recipient': async () => cli(['report', '--format', 'eml', '--out', out()])(),
    'report-eml-bad-recipient': async () => cli(['report', '--format', 'eml', '--out', out(), '--mail-to', 'not an address'])(),
    'report-eml-recipient-injection': async () => cli(['report', '--format', 'eml', '--out', out(), '--mail-to', 'a@example.com\r\nBcc: x@example.net'])(),
    'report-eml-bad-sender': async () => cli(['report', '--format', 'eml', '--out', out(), '--mail-to', 'a@example.com', '--mail-from', 'x@'])(),
    'report-eml-subject-injection': async () =>
      cli(['report', '--format', 'eml', '--out', out(), '--mail-to', 'a@example.com', '--subject', 'Daily\r\nBcc: x@example.net'])(),
    'report-mail-flag-without-eml': cli(['report', '--format', 'html', '--mail-to', 'a@example.com', '--out', '/dev/null']),
    'sql-risk-metrics-bad-zone': sql(`SELECT * FROM fifo_risk_metrics(1, 'Mars/Olympus')`),
    'sql-trading-metrics-bad-zone': sql(`SELECT * FROM fifo_trading_metrics(1, 'Mars/Olympus')`),
  };
}
