/**
 * The CLI's exit codes (documented in README.md). Scripts branch on them, so they never change meaning.
 */
import { type ErrorInfo, isInputError } from '../contracts/errors.js';

export const EXIT = {
  ok: 0,
  /** The request failed, was rejected, or did not finish in time. */
  requestFailed: 1,
  /** Bad command line: unknown command or flag, missing or malformed argument. */
  usage: 2,
  /** The manifest or an image is invalid (checked before anything is uploaded). */
  invalid: 3,
  /** AWS or local infrastructure could not be reached or answered with an error. */
  infrastructure: 4,
} as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The request itself ended badly; carries the error code the pipeline reported, when there is one. */
export class RequestFailedError extends Error {
  override readonly name = 'RequestFailedError';
  constructor(
    message: string,
    readonly info?: ErrorInfo,
  ) {
    super(message);
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof RequestFailedError) return EXIT.requestFailed;
  if (isInputError(error)) return EXIT.invalid;
  return EXIT.infrastructure;
}
