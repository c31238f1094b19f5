/** The request lifecycle document at requests/<id>/status.json, and the transitions it may take. */
import { z } from 'zod';
import { ErrorInfoSchema } from '../errors.js';

export const REQUEST_STATES = ['queued', 'running', 'succeeded', 'failed', 'rejected'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** The states a request ends in; each has exactly one completion event of the same name. */
export const TERMINAL_STATES = ['succeeded', 'failed', 'rejected'] as const satisfies readonly RequestState[];
export type TerminalState = (typeof TERMINAL_STATES)[number];

/**
 * Allowed moves. `running → queued` is a retry after a worker let the message go (SIGTERM, crash).
 * `queued → queued` is dispatch recording that the work message went out (`enqueued_at`).
 */
export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  queued: ['queued', 'running', 'failed'],
  running: ['running', 'queued', 'succeeded', 'failed'],
  succeeded: [],
  failed: [],
  rejected: [],
};

export const StatusSchema = z
  .object({
    version: z.literal(1),
    request_id: z.string(),
    state: z.enum(REQUEST_STATES),
    created_at: z.string().describe('ISO-8601 time the request was claimed.'),
    updated_at: z.string().describe('ISO-8601 time of this write.'),
    seed: z.number().int().optional().describe('The resolved seed.'),
    client_reference: z.string().optional(),
    manifest_etag: z.string().optional(),
    claimed_by: z
      .string()
      .optional()
      .describe(
        'The intake delivery (SQS message id) that claimed the request; its retries may finish the claim.',
      ),
    enqueued_at: z.string().optional().describe('ISO-8601 time dispatch sent the work message.'),
    attempt: z.number().int().min(0).optional().describe('How many times a worker has taken the request.'),
    worker_id: z.string().optional(),
    heartbeat_at: z.string().optional().describe('ISO-8601 time a worker last showed it is alive.'),
    progress: z
      .object({ percent: z.number().min(0).max(100), phase: z.string() })
      .optional()
      .describe('Progress while running.'),
    result_key: z.string().optional(),
    error: ErrorInfoSchema.optional(),
    last_error: ErrorInfoSchema.optional().describe(
      'The last retryable error, kept when a request goes back to the queue, so a final failure can name it.',
    ),
  })
  .describe('Lifecycle of one Heritage request.');

export type StatusDocument = z.infer<typeof StatusSchema>;

export function isTerminal(state: RequestState): state is TerminalState {
  return (TERMINAL_STATES as readonly RequestState[]).includes(state);
}

export function canTransition(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}
