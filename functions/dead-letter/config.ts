/** Dead-letter configuration, parsed from the environment once, on the first invocation. */
import { z } from 'zod';
import { parseEnvironment } from '../../contracts/environment.js';

export const DeadLetterEnvSchema = z.object({
  REQUEST_BUCKET: z.string().min(1).describe('The bucket holding requests/.'),
  COMPLETIONS_TOPIC_ARN: z.string().startsWith('arn:').describe('SNS topic of completion events.'),
  AWS_ENDPOINT_URL: z.url().optional().describe('Local AWS stand-in; unset on AWS.'),
  POWERTOOLS_SERVICE_NAME: z.string().default('heritage-dead-letter'),
});

export type DeadLetterConfig = z.infer<typeof DeadLetterEnvSchema>;

export function loadDeadLetterConfig(
  env: Record<string, string | undefined> = process.env,
): DeadLetterConfig {
  return parseEnvironment('dead-letter', DeadLetterEnvSchema, env);
}
