/**
 * The CLI's exit codes (documented in README.md). Scripts branch on them, so they never change meaning.
 */
import { type ErrorInfo, isHeritageError } from '../contracts/errors.js';

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

const INPUT_CODES = new Set<string>([
  'MANIFEST_INVALID',
  'MANIFEST_NOT_JSON',
  'MANIFEST_TOO_LARGE',
  'MANIFEST_MISSING',
  'REQUEST_ID_INVALID',
  'IMAGE_MISSING',
  'IMAGE_EMPTY',
  'IMAGE_TOO_LARGE',
  'IMAGE_FORMAT_UNSUPPORTED',
  'IMAGE_DIMENSIONS',
  'IMAGE_TRUNCATED',
  'IMAGE_CORRUPT',
  'RESOLUTION_UNSUPPORTED',
]);

export function isInputError(error: unknown): boolean {
  return isHeritageError(error) && INPUT_CODES.has(error.code);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof RequestFailedError) return EXIT.requestFailed;
  if (isInputError(error)) return EXIT.invalid;
  return EXIT.infrastructure;
}
