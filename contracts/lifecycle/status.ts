/** The request lifecycle document at requests/<id>/status.json. */
import { z } from 'zod';
import { ErrorInfoSchema } from '../errors.js';
import { EventParametersSchema } from '../event.js';
import { REQUEST_STATES } from './states.js';

export * from './states.js';

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
    lease: z
      .object({
        token: z.string().describe('Unique to one attempt; every write of that attempt names it.'),
        holder: z.string().describe('The worker holding the request.'),
        expires_at: z.string().describe('ISO-8601 time the lease lapses unless its holder renews it.'),
      })
      .optional()
      .describe(
        'While running: the one attempt allowed to render, write outputs and end the request. Nobody else may move a running request before the lease lapses.',
      ),
    parameters: EventParametersSchema.optional().describe(
      'The request parameters as accepted (seed resolved), echoed by every event of the request.',
    ),
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
