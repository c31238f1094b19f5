/**
 * Every failure Heritage reports carries a stable `code`. Clients branch on the code, never on the message,
 * so a code, once published, is never renamed.
 */
import { z } from 'zod';

export const ERROR_CODES = [
  // Request input: never retryable, a retry cannot fix bad input.
  'MANIFEST_INVALID',
  'MANIFEST_NOT_JSON',
  'MANIFEST_TOO_LARGE',
  'MANIFEST_MISSING',
  'REQUEST_ID_INVALID',
  'REQUEST_ID_REUSED',
  'IMAGE_MISSING',
  'IMAGE_EMPTY',
  'IMAGE_TOO_LARGE',
  'IMAGE_FORMAT_UNSUPPORTED',
  'IMAGE_DIMENSIONS',
  'IMAGE_TRUNCATED',
  'IMAGE_CORRUPT',
  'IMAGE_ANIMATED',
  'IMAGE_CHANGED',
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
  'WORK_LOST',
  'CONFIG_INVALID',
  'TRANSIENT',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The JSON shape of an error in status documents, result files and completion events. */
export const ErrorInfoSchema = z
  .object({
    code: z.enum(ERROR_CODES).describe('Stable error code; branch on this, never on the message.'),
    message: z.string().describe('Human-readable explanation.'),
    retryable: z.boolean().describe('Whether sending the same request again could succeed.'),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Structured context, such as node errors.'),
  })
  .describe('Why a request failed or was rejected.');

export type ErrorInfo = z.infer<typeof ErrorInfoSchema>;

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
/** A manifest uploaded under an id that already has a request: ids are single-use. */
export class RequestIdReusedError extends InputError {
  readonly code = 'REQUEST_ID_REUSED';
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
/** More than one frame (APNG, animated WebP, a multi-picture JPEG): which one would be the frame? */
export class ImageAnimatedError extends InputError {
  readonly code = 'IMAGE_ANIMATED';
}
/** The image under the key is no longer the one dispatch checked: replaced after the request was accepted. */
export class ImageChangedError extends InputError {
  readonly code = 'IMAGE_CHANGED';
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
/** Accepted, but its work message expired or was dropped before a worker took it: send it again. */
export class WorkLostError extends HeritageError {
  readonly code = 'WORK_LOST';
  readonly retryable = true;
}
export class ConfigInvalidError extends HeritageError {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
}
/**
 * The worker no longer holds its request: its lease lapsed or another path moved the request, or its
 * message became visible to other workers. It stops at once and writes nothing more for the request.
 */
export class LeaseLostError extends HeritageError {
  readonly code = 'TRANSIENT';
  readonly retryable = true;
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

const ERROR_CLASSES = {
  MANIFEST_INVALID: ManifestInvalidError,
  MANIFEST_NOT_JSON: ManifestNotJsonError,
  MANIFEST_TOO_LARGE: ManifestTooLargeError,
  MANIFEST_MISSING: ManifestMissingError,
  REQUEST_ID_INVALID: RequestIdInvalidError,
  REQUEST_ID_REUSED: RequestIdReusedError,
  IMAGE_MISSING: ImageMissingError,
  IMAGE_EMPTY: ImageEmptyError,
  IMAGE_TOO_LARGE: ImageTooLargeError,
  IMAGE_FORMAT_UNSUPPORTED: ImageFormatError,
  IMAGE_DIMENSIONS: ImageDimensionsError,
  IMAGE_TRUNCATED: ImageTruncatedError,
  IMAGE_CORRUPT: ImageCorruptError,
  IMAGE_ANIMATED: ImageAnimatedError,
  IMAGE_CHANGED: ImageChangedError,
  RESOLUTION_UNSUPPORTED: ResolutionUnsupportedError,
  COMFYUI_VALIDATION: ComfyValidationError,
  COMFYUI_NODE_ERROR: ComfyNodeError,
  COMFYUI_UNAVAILABLE: ComfyUnavailableError,
  ENGINE_CRASHED: EngineCrashedError,
  ENGINE_INTERRUPTED: EngineInterruptedError,
  GPU_OUT_OF_MEMORY: GpuOutOfMemoryError,
  OUTPUT_MISMATCH: OutputMismatchError,
  REQUEST_TIMEOUT: RequestTimeoutError,
  WORKFLOW_INVALID: WorkflowInvalidError,
  UPLOAD_FAILED: UploadFailedError,
  VIDEO_ENCODE_FAILED: VideoEncodeFailedError,
  DOWNLOAD_FAILED: DownloadFailedError,
  MODEL_CHECKSUM: ModelChecksumError,
  MODEL_UNAVAILABLE: ModelUnavailableError,
  WORKER_CRASHED: WorkerCrashedError,
  RETRIES_EXHAUSTED: RetriesExhaustedError,
  HEARTBEAT_LOST: HeartbeatLostError,
  WORK_LOST: WorkLostError,
  CONFIG_INVALID: ConfigInvalidError,
  TRANSIENT: TransientError,
  INTERNAL: InternalError,
} satisfies Record<ErrorCode, new (message: string, options?: HeritageErrorOptions) => HeritageError>;

/**
 * An error as plain data, to cross a thread boundary: structured clone keeps an Error's message but
 * not its class, its code or its details.
 */
export interface ClonedError {
  name: string;
  message: string;
  stack?: string;
  code?: ErrorCode;
  details?: Record<string, unknown>;
  cause?: ClonedError;
}

export function cloneError(error: unknown): ClonedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(isHeritageError(error) ? { code: error.code } : {}),
    ...(isHeritageError(error) && error.details !== undefined ? { details: error.details } : {}),
    ...(error.cause === undefined ? {} : { cause: cloneError(error.cause) }),
  };
}

/** The error `cloneError` describes, as its own class again when it was a HeritageError. */
export function reviveError(clone: ClonedError): Error {
  const options = {
    ...(clone.cause === undefined ? {} : { cause: reviveError(clone.cause) }),
    ...(clone.details === undefined ? {} : { details: clone.details }),
  };
  const error =
    clone.code === undefined
      ? new Error(clone.message, options.cause === undefined ? undefined : { cause: options.cause })
      : new ERROR_CLASSES[clone.code](clone.message, options);
  error.name = clone.name;
  if (clone.stack !== undefined) error.stack = clone.stack;
  return error;
}
