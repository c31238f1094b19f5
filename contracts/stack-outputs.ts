/** The CloudFormation outputs of the Heritage stack: the infra writes them, the CLI reads them. */
import { z } from 'zod';

export const DEFAULT_STACK_NAME = 'Heritage';
/** Where the model mirror lives in the model bucket unless the `modelPrefix` context says otherwise. */
export const DEFAULT_MODEL_PREFIX = 'models/';

export const StackOutputsSchema = z.object({
  RequestBucketName: z.string().describe('Bucket for inbox/, requests/ and outputs/.'),
  ModelBucketName: z.string().describe('Bucket holding the model mirror that workers pull from.'),
  ModelPrefix: z.string().describe('Key prefix of the model mirror inside the model bucket, e.g. "models/".'),
  CompletionsTopicArn: z.string().describe('SNS topic with one terminal event per request.'),
  IntakeQueueUrl: z.string(),
  IntakeDeadLetterQueueUrl: z.string(),
  WorkQueueUrl: z.string(),
  WorkDeadLetterQueueUrl: z.string(),
  JobQueueArn: z.string(),
  JobDefinitionArn: z.string(),
  AlarmTopicArn: z.string().describe('SNS topic the alarms notify; subscribe to be paged.'),
  DashboardName: z.string(),
  FirstRequestCommand: z.string().describe('A ready `aws s3 cp` example that submits a request.'),
});
export type StackOutputs = z.infer<typeof StackOutputsSchema>;
export type StackOutputKey = keyof StackOutputs;
