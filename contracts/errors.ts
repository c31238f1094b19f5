/**
 * Every failure Heritage reports carries a stable `code`. Clients branch on the code, never on the message,
 * so a code, once published, is never renamed.
 */
export const ERROR_CODES = [
  // Request input: never retryable, a retry cannot fix bad input.
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
  // Engine.
  'COMFYUI_VALIDATION',
  'COMFYUI_NODE_ERROR',
  'COMFYUI_UNAVAILABLE',
  'ENGINE_CRASHED',
  'ENGINE_INTERRUPTED',
  'GPU_OUT_OF_MEMORY',
  'OUTPUT_MISMATCH',
  'REQUEST_TIMEOUT',
  'WORKFLOW_INVALID',
  // Delivery and platform.
  'UPLOAD_FAILED',
  'VIDEO_ENCODE_FAILED',
  'DOWNLOAD_FAILED',
  'MODEL_CHECKSUM',
  'MODEL_UNAVAILABLE',
  'WORKER_CRASHED',
  'RETRIES_EXHAUSTED',
  'HEARTBEAT_LOST',
  'CONFIG_INVALID',
  'TRANSIENT',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The JSON shape of an error in status documents, result files and completion events. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

export interface HeritageErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** Base of every error Heritage raises on purpose. */
export abstract class HeritageError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(message: string, options: HeritageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.details !== undefined) this.details = options.details;
  }

  toInfo(): ErrorInfo {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** A request the client must change: bad manifest, id or image. Never retryable. */
export abstract class InputError extends HeritageError {
  readonly retryable = false;
}

export class ManifestInvalidError extends InputError {
  readonly code = 'MANIFEST_INVALID';
}
export class ManifestNotJsonError extends InputError {
  readonly code = 'MANIFEST_NOT_JSON';
}
export class ManifestTooLargeError extends InputError {
  readonly code = 'MANIFEST_TOO_LARGE';
}
export class ManifestMissingError extends InputError {
  readonly code = 'MANIFEST_MISSING';
}
export class RequestIdInvalidError extends InputError {
  readonly code = 'REQUEST_ID_INVALID';
}
export class ImageMissingError extends InputError {
  readonly code = 'IMAGE_MISSING';
}
export class ImageEmptyError extends InputError {
  readonly code = 'IMAGE_EMPTY';
}
export class ImageTooLargeError extends InputError {
  readonly code = 'IMAGE_TOO_LARGE';
}
export class ImageFormatError extends InputError {
  readonly code = 'IMAGE_FORMAT_UNSUPPORTED';
}
export class ImageDimensionsError extends InputError {
  readonly code = 'IMAGE_DIMENSIONS';
}
export class ImageTruncatedError extends InputError {
  readonly code = 'IMAGE_TRUNCATED';
}
export class ImageCorruptError extends InputError {
  readonly code = 'IMAGE_CORRUPT';
}
export class ResolutionUnsupportedError extends InputError {
  readonly code = 'RESOLUTION_UNSUPPORTED';
}

export class ComfyValidationError extends HeritageError {
  readonly code = 'COMFYUI_VALIDATION';
  readonly retryable = false;
}
export class ComfyNodeError extends HeritageError {
  readonly code = 'COMFYUI_NODE_ERROR';
  readonly retryable = false;
}
export class ComfyUnavailableError extends HeritageError {
  readonly code = 'COMFYUI_UNAVAILABLE';
  readonly retryable = true;
}
export class EngineCrashedError extends HeritageError {
  readonly code = 'ENGINE_CRASHED';
  readonly retryable = true;
}
export class EngineInterruptedError extends HeritageError {
  readonly code = 'ENGINE_INTERRUPTED';
  readonly retryable = true;
}
export class GpuOutOfMemoryError extends HeritageError {
  readonly code = 'GPU_OUT_OF_MEMORY';
  readonly retryable = false;
}
export class OutputMismatchError extends HeritageError {
  readonly code = 'OUTPUT_MISMATCH';
  readonly retryable = false;
}
export class RequestTimeoutError extends HeritageError {
  readonly code = 'REQUEST_TIMEOUT';
  readonly retryable = false;
}
export class WorkflowInvalidError extends HeritageError {
  readonly code = 'WORKFLOW_INVALID';
  readonly retryable = false;
}
export class UploadFailedError extends HeritageError {
  readonly code = 'UPLOAD_FAILED';
  readonly retryable = true;
}
export class VideoEncodeFailedError extends HeritageError {
  readonly code = 'VIDEO_ENCODE_FAILED';
  readonly retryable = false;
}
export class DownloadFailedError extends HeritageError {
  readonly code = 'DOWNLOAD_FAILED';
  readonly retryable = true;
}
export class ModelChecksumError extends HeritageError {
  readonly code = 'MODEL_CHECKSUM';
  readonly retryable = false;
}
export class ModelUnavailableError extends HeritageError {
  readonly code = 'MODEL_UNAVAILABLE';
  readonly retryable = true;
}
export class WorkerCrashedError extends HeritageError {
  readonly code = 'WORKER_CRASHED';
  readonly retryable = false;
}
export class RetriesExhaustedError extends HeritageError {
  readonly code = 'RETRIES_EXHAUSTED';
  readonly retryable = false;
}
export class HeartbeatLostError extends HeritageError {
  readonly code = 'HEARTBEAT_LOST';
  readonly retryable = false;
}
export class ConfigInvalidError extends HeritageError {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
}
/** An AWS or network hiccup that a retry can fix. */
export class TransientError extends HeritageError {
  readonly code = 'TRANSIENT';
  readonly retryable = true;
}
/** A bug or an impossible state: reported with its cause, never hidden. */
export class InternalError extends HeritageError {
  readonly code = 'INTERNAL';
  readonly retryable = false;
}

export function isHeritageError(error: unknown): error is HeritageError {
  return error instanceof HeritageError;
}

export function isInputError(error: unknown): error is InputError {
  return error instanceof InputError;
}

/** Turns anything thrown into the ErrorInfo that status and events carry. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (isHeritageError(error)) return error.toInfo();
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message, retryable: false };
}
