/**
 * The CLI's exit codes (documented in README.md). Scripts branch on them, so they never change meaning.
 */
import { type ErrorInfo, isInputError } from '../contracts/errors.js';

export const EXIT = {
  ok: 0,
  /** The request failed, was rejected, is unknown, or did not finish in time. */
  requestFailed: 1,
  /** Bad command line: unknown command or flag, missing or malformed argument. */
  usage: 2,
  /** The manifest, an image or the request id is invalid (checked before anything is uploaded). */
  invalid: 3,
  /** AWS or local infrastructure could not be reached or answered with an error. */
  infrastructure: 4,
} as const;

export interface CliErrorOptions {
  /** What to do next, printed on a line of its own under the error. */
  hint?: string;
  cause?: unknown;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly hint: string | undefined;
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

export interface RequestFailedOptions extends CliErrorOptions {
  /** What the command knows of the request (its status), for the --json envelope's `result`. */
  result?: unknown;
}

/**
 * The request itself ended badly, or is not there. `message` says which request and how ("request x
 * rejected"); the pipeline's error code and message, when there are some, are in `info` and printed
 * once, after it.
 */
export class RequestFailedError extends Error {
  override readonly name = 'RequestFailedError';
  readonly hint: string | undefined;
  readonly result: unknown;
  constructor(
    message: string,
    readonly info?: ErrorInfo,
    options: RequestFailedOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.result = options.result;
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof RequestFailedError) return EXIT.requestFailed;
  if (isInputError(error)) return EXIT.invalid;
  return EXIT.infrastructure;
}
