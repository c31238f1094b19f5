/** Reconcile configuration, parsed from the environment once, on the first invocation. */
import { z } from 'zod';
import { parseEnvironment } from '../../contracts/environment.js';

export const ReconcileEnvSchema = z.object({
  REQUEST_BUCKET: z.string().min(1).describe('The bucket holding requests/.'),
  WORK_QUEUE_URL: z.url().describe('SQS queue the GPU workers consume.'),
  COMPLETIONS_TOPIC_ARN: z.string().startsWith('arn:').describe('SNS topic of completion events.'),
  JOB_QUEUE: z.string().min(1).describe('AWS Batch job queue of the workers (ARN or name).'),
  JOB_DEFINITION: z.string().min(1).describe('AWS Batch job definition of the worker (ARN or name).'),
  MAX_WORKERS: z.coerce.number().int().min(1).max(10_000).describe('Most workers alive at once.'),
  REQUEST_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(1800)
    .describe('A running request silent for longer than this has lost its worker.'),
  WORK_MESSAGE_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(4 * 24 * 3600)
    .describe('How long the work queue keeps a message; a request queued longer than this has lost it.'),
  RECONCILE_MAX_STATUSES: z.coerce
    .number()
    .int()
    .min(1)
    .default(5000)
    .describe('Most status documents one run reads.'),
  AWS_ENDPOINT_URL: z.url().optional().describe('Local AWS stand-in; unset on AWS.'),
  POWERTOOLS_SERVICE_NAME: z.string().default('heritage-reconcile'),
});

export type ReconcileConfig = z.infer<typeof ReconcileEnvSchema>;

export function loadReconcileConfig(env: Record<string, string | undefined> = process.env): ReconcileConfig {
  return parseEnvironment('reconcile', ReconcileEnvSchema, env);
}
