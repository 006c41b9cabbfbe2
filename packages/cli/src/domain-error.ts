/**
 * Errors of the library (queries, report, review, ledger-io): what went wrong in the domain's
 * words, with a code a command maps to an exit code and to the flag or argument it came from.
 * Library code never names a CLI flag; `subject` is the value the error is about (a version
 * number, a path), which the command prefixes with its flag.
 */
export type DomainCode =
  | 'no_such_version'
  | 'unknown_symbols'
  | 'version_not_computed'
  | 'no_such_review'
  | 'review_closed'
  | 'not_unmatched_sell'
  | 'sell_gone'
  | 'symbol_dirty'
  | 'fully_matched'
  | 'opening_id_too_long'
  | 'opening_exists'
  | 'opening_after_sell'
  | 'unreadable_file'
  | 'bad_file'
  | 'write_failed'
  | 'sandbox_not_ours'
  | 'out_is_directory'
  | 'plv8_not_installed'
  | 'version_exists';

export class DomainError extends Error {
  constructor(
    readonly code: DomainCode,
    message: string,
    readonly subject: string = '',
    /** Between the subject and the message when a command words it (`--out "x" is a directory`). */
    readonly separator: string = ': ',
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
