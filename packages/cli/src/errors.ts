/** Exit codes of the `fifo` CLI (docs/CONTRACT.md §9). */
export const EXIT_OK = 0;
export const EXIT_CHECKS_FAILED = 1;
export const EXIT_USAGE = 2;

/** An error the CLI reports as a one-line message with a chosen exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
