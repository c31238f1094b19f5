/** SDK v3 clients for the functions: real AWS, or the local stand-in when AWS_ENDPOINT_URL is set. */

import type { Tracer } from '@aws-lambda-powertools/tracer';
import { BatchClient } from '@aws-sdk/client-batch';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CALL_TIMEOUTS } from '../adapters/aws/call-timeouts.js';

export interface FunctionAwsClients {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  batch: BatchClient;
}

export function createAwsClients(tracer: Tracer, endpoint?: string): FunctionAwsClients {
  const common = { ...CALL_TIMEOUTS, ...(endpoint === undefined ? {} : { endpoint }) };
  return {
    s3: tracer.captureAWSv3Client(new S3Client({ ...common, forcePathStyle: endpoint !== undefined })),
    sqs: tracer.captureAWSv3Client(new SQSClient(common)),
    sns: tracer.captureAWSv3Client(new SNSClient(common)),
    // The launcher owns throttling backoff (full jitter); SDK retries on top would multiply the wait.
    batch: tracer.captureAWSv3Client(new BatchClient({ ...common, maxAttempts: 1 })),
  };
}
