/** The worker's log port: structured, one JSON object per line (main.ts backs it with Powertools' Logger). */
export interface WorkerLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
  /**
   * Puts `request_id` on every line from now on, whoever writes it (the job, the heartbeat, ComfyUI's
   * own output), until it is set to undefined. The worker runs one request at a time, so one id is
   * enough.
   */
  setRequestId(requestId: string | undefined): void;
}

export const silentLog: WorkerLog = { info() {}, warn() {}, error() {}, setRequestId() {} };

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
