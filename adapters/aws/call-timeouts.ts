/**
 * Every AWS call Heritage makes ends: a connection that does not open in 3 s, or a request whose socket
 * stays silent for 30 s (longer than SQS's 20 s long poll), fails and is retried by the SDK. Without it a
 * hung call could hold a GPU worker, its heartbeats keeping the message alive, until Batch's job
 * timeout. Callers add an abort signal where they must stop at once (a worker's shutdown).
 */
export const CALL_TIMEOUTS = {
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000 },
} as const;
