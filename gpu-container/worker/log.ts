/** The worker's log port: structured, one JSON object per line (main.ts backs it with Powertools' Logger). */
export interface WorkerLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  /**
   * Puts `request_id` on every line this log writes from now on (ComfyUI's own output and the engine's
   * lines among them), until it is set to undefined. The worker sets it to the request on the GPU:
   * one at a time.
   */
  setRequestId(requestId: string | undefined): void;
  /**
   * A log whose every line names `requestId`, whatever this one's id is later set to. A job writes
   * through it, so that a request still delivering its outputs keeps its own id while the next one
   * renders (job/worker-loop.ts).
   */
  forRequest(requestId: string): WorkerLog;
}

export const silentLog: WorkerLog = {
  info() {},
  warn() {},
  error() {},
  setRequestId() {},
  forRequest: () => silentLog,
};

/** Describes an error for a log line, cause included. */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.cause === undefined ? {} : { cause: describeError(error.cause) }),
  };
}
