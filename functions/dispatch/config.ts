/** Dispatch configuration, parsed from the environment once, on the first invocation. */
import { z } from 'zod';
import { parseEnvironment } from '../../contracts/environment.js';

export const DispatchEnvSchema = z.object({
  REQUEST_BUCKET: z.string().min(1).describe('The bucket holding inbox/, requests/ and outputs/.'),
  WORK_QUEUE_URL: z.url().describe('SQS queue the GPU workers consume.'),
  COMPLETIONS_TOPIC_ARN: z.string().startsWith('arn:').describe('SNS topic of completion events.'),
  JOB_QUEUE: z.string().min(1).describe('AWS Batch job queue of the workers (ARN or name).'),
  JOB_DEFINITION: z.string().min(1).describe('AWS Batch job definition of the worker (ARN or name).'),
  MAX_WORKERS: z.coerce.number().int().min(1).max(10_000).describe('Most workers alive at once.'),
  IMAGE_WAIT_RECEIVES: z.coerce
    .number()
    .int()
    .min(1)
    .default(3)
    .describe(
      'Deliveries of one intake message before a missing image rejects the request; keep it below the intake maxReceiveCount.',
    ),
  AWS_ENDPOINT_URL: z.url().optional().describe('Local AWS stand-in; unset on AWS.'),
  POWERTOOLS_SERVICE_NAME: z.string().default('heritage-dispatch'),
});

export type DispatchConfig = z.infer<typeof DispatchEnvSchema>;

export function loadDispatchConfig(env: Record<string, string | undefined> = process.env): DispatchConfig {
  return parseEnvironment('dispatch', DispatchEnvSchema, env);
}
